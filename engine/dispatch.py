"""Where a batch runs: on a Dramatiq worker through Redis, or right here (direct processing).

Redis mode needs Redis to answer and at least one worker to be listening;
otherwise the same batch runs in this process's thread pool, through the
same pipeline. The choice is remade every few seconds and per message: an
enqueue that fails falls back at once, and work returns to Redis when it is
back. The ledger makes the switch safe: a batch is only a token over rows,
and whoever claims the rows first sends them, exactly once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import dramatiq.errors
import redis

from engine.broker import BrokerLink

log = logging.getLogger("herald.dispatch")

REDIS, DIRECT = "redis", "direct"
RECHECK_SECONDS = 3.0  # how long a mode decision stands

Job = Callable[..., Any]


class Dispatcher:
    def __init__(
        self,
        jobs: dict[str, Job],
        link: BrokerLink | None,
        *,
        threads: int = 8,
        direct_only: bool = False,
    ) -> None:
        """``jobs`` maps actor names to the functions they run (same in every process)."""
        self.jobs = jobs
        self.link = link
        self.direct_only = direct_only or link is None
        self.recheck = RECHECK_SECONDS
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="direct")
        self._mode = DIRECT
        self._checked = 0.0
        self._lock = threading.Lock()
        self._inflight = 0

    @property
    def mode(self) -> str:
        """``redis`` or ``direct``, rechecked at most every few seconds."""
        if self.direct_only or self.link is None:
            return DIRECT
        with self._lock:
            if time.monotonic() - self._checked >= self.recheck:
                self._checked = time.monotonic()
                previous = self._mode
                self._mode = REDIS if self.link.ping() and self.link.workers_alive() > 0 else DIRECT
                if previous != self._mode:
                    log.warning("dispatch mode is now %s", self._mode)
            return self._mode

    def submit(self, name: str, *args: Any) -> str:
        """Run job ``name`` with ``args`` somewhere; returns where."""
        if self.mode == REDIS and self.link is not None:
            try:
                self.link.send(name, *args)
                return REDIS
            except (redis.RedisError, dramatiq.errors.ConnectionError, OSError) as exc:
                log.warning("Redis refused a message (%s); processing directly", type(exc).__name__)
                with self._lock:
                    self._mode, self._checked = DIRECT, time.monotonic()
        self._run_here(name, args)
        return DIRECT

    def _run_here(self, name: str, args: Sequence[Any]) -> None:
        job = self.jobs[name]
        with self._lock:
            self._inflight += 1

        def run() -> None:
            try:
                job(*args)
            except Exception:
                log.exception("direct job %s failed; the watchdog will retry its rows", name)
            finally:
                with self._lock:
                    self._inflight -= 1

        self._pool.submit(run)

    @property
    def busy(self) -> int:
        """Direct jobs submitted and not yet finished."""
        with self._lock:
            return self._inflight

    def drain(self, timeout: float = 60.0) -> None:
        """Wait until direct jobs are done (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while self.busy and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self) -> None:
        # batches not started yet stay dispatched in the ledger; the watchdog hands them out again
        self._pool.shutdown(wait=True, cancel_futures=True)
