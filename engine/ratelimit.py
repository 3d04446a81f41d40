"""The send rate per sender number, shared by every worker: a GCRA (virtual scheduling) limiter.

A caller reserves ``n`` consecutive send slots at once and learns how long to
wait before the first; slot ``i`` is ``i / rate`` seconds after it. Slots are
handed out from one "theoretical arrival time" (TAT), so callers in any
number of processes never overlap and the measured rate is the configured
one, not a burst per window. In Redis mode the TAT lives in Redis and is
advanced by one Lua call against Redis's own clock; in direct mode it lives
in this process. A throttling answer from Meta (130429) pushes the TAT
forward: everyone slows down together.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import redis

# KEYS[1]: the TAT key. ARGV: n slots, interval µs, penalty µs (0 to reserve).
# Returns the delay in µs before the first reserved slot.
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local n = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local penalty = tonumber(ARGV[3])
local first = tat
local new_tat = tat + n * interval + penalty
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.floor((new_tat - now) / 1000) + 60000)
return first - now
"""


class RateLimiter(Protocol):
    rate: float  # sends per second

    def reserve(self, n: int) -> float:
        """Reserve ``n`` slots; returns seconds to wait before the first one."""
        ...

    def slow_down(self, seconds: float) -> None:
        """Delay every later slot by ``seconds`` (Meta said we are going too fast)."""
        ...


class LocalRateLimiter:
    """The limiter for one process (direct mode, and when Redis is unreachable)."""

    def __init__(self, rate: float) -> None:
        self.rate = float(rate)
        self._interval = 1.0 / self.rate
        self._tat = 0.0
        self._lock = threading.Lock()

    def reserve(self, n: int) -> float:
        with self._lock:
            now = time.monotonic()
            first = max(self._tat, now)
            self._tat = first + n * self._interval
            return first - now

    def slow_down(self, seconds: float) -> None:
        with self._lock:
            self._tat = max(self._tat, time.monotonic()) + seconds


class RedisRateLimiter:
    """The limiter shared through Redis by every worker on every machine.

    Falls back to a local limiter while Redis does not answer, so a Redis
    outage slows nothing down by more than the configured rate.
    """

    def __init__(self, client: redis.Redis[bytes], key: str, rate: float) -> None:
        self.rate = float(rate)
        self._interval_us = max(1, round(1_000_000 / self.rate))
        self._client = client
        self._key = key
        self._script = client.register_script(_GCRA)
        self._fallback = LocalRateLimiter(rate)

    def reserve(self, n: int) -> float:
        try:
            delay_us = self._script(keys=[self._key], args=[n, self._interval_us, 0])
        except redis.RedisError:
            return self._fallback.reserve(n)
        return max(0.0, int(delay_us) / 1_000_000)

    def slow_down(self, seconds: float) -> None:
        try:
            self._script(keys=[self._key], args=[0, self._interval_us, round(seconds * 1_000_000)])
        except redis.RedisError:
            self._fallback.slow_down(seconds)
