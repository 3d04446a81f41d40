"""Many sends in flight from synchronous code: one asyncio loop per process, in its own thread.

Dramatiq worker threads and the direct-mode pool are synchronous; the Cloud
API client is asynchronous. ``Sender.send_all`` hands a batch to the loop and
blocks until every send has an outcome. Each send starts at its reserved
rate-limit slot, so a batch of 100 at 80 msg/s is spread over 1.25 s while
other batches' requests are in flight at the same time. ``reserve`` and
``send_at`` split the two, so a caller can look again at what it is about to
send just before its slots come (the send pipeline does).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

from engine.ratelimit import RateLimiter
from engine.whatsapp.errors import Ambiguous, DeliveryError, Throttled
from engine.whatsapp.messages import CloudApi, TemplateMessage

T = TypeVar("T")
Outcome = str | DeliveryError  # a wamid, or why it did not go
THROTTLE_PAUSE = 1.0  # seconds every sender waits after a 130429


class Sender:
    def __init__(self, api_factory: Callable[[], CloudApi], limiter: RateLimiter) -> None:
        self._api_factory = api_factory
        self.limiter = limiter
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sender-loop", daemon=True)
        self._thread.start()
        self._ready.wait()
        self.api: CloudApi = self.call(self._make_api())

    async def _make_api(self) -> CloudApi:
        return self._api_factory()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._ready.set)
        self._loop.run_forever()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def call(self, coro: Awaitable[T], timeout: float | None = None) -> T:
        """Run ``coro`` on the sender loop and wait for its result (from any other thread)."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)  # type: ignore[arg-type]
        return future.result(timeout)

    def send_all(self, messages: Sequence[TemplateMessage]) -> list[Outcome]:
        """Send every message at its rate-limit slot; one outcome per message, in order."""
        if not messages:
            return []
        return self.send_at(messages, self.reserve(len(messages)))

    def reserve(self, n: int) -> float:
        """Reserve ``n`` consecutive send slots; returns when the first is (``time.monotonic``)."""
        return time.monotonic() + self.limiter.reserve(n)

    def send_at(self, messages: Sequence[TemplateMessage], first: float) -> list[Outcome]:
        """Send ``messages`` at the slots reserved from ``first`` on (fewer than reserved is
        fine: the rest stay unused); one outcome per message, in order."""
        if not messages:
            return []
        return self.call(self._paced(messages, first))

    async def _paced(self, messages: Sequence[TemplateMessage], first: float) -> list[Outcome]:
        interval = 1.0 / self.limiter.rate
        tasks = [
            asyncio.create_task(self._one(message, first + i * interval))
            for i, message in enumerate(messages)
        ]
        return list(await asyncio.gather(*tasks))

    async def _one(self, message: TemplateMessage, at: float) -> Outcome:
        wait = at - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        try:
            return await self.api.send_template(message)
        except Throttled as exc:
            self.limiter.slow_down(THROTTLE_PAUSE)
            return exc
        except DeliveryError as exc:
            return exc
        except Exception as exc:
            return Ambiguous(f"unexpected {type(exc).__name__}")

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            if self._loop.is_running():
                self.call(self._close_api(), timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    async def _close_api(self) -> None:
        await self.api.close()

    def submit(self, coro: Awaitable[Any]) -> Future[Any]:
        """Schedule ``coro`` on the sender loop without waiting."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop)  # type: ignore[arg-type]
