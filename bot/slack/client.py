"""Talking to Slack's Web API: one client per process, and a loop of its own to call it from anywhere.

Engine threads (a send batch finishing, a status arriving) and the scheduler
tick are synchronous; the notifier and the digest hand their Slack calls to
``Poster``, an asyncio loop in a thread of its own, and return at once. Every
client retries Slack's 429 after its ``Retry-After`` (slack_sdk's handler).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings

T = TypeVar("T")
log = logging.getLogger("herald.slack")
RATE_LIMIT_RETRIES = 2
TIMEOUT_SECONDS = 15


def web_client(settings: Settings, *, with_token: bool = True) -> AsyncWebClient:
    """A Web API client at ``SLACK_API_URL``; without the token for bolt (its authorize adds it)."""
    token = settings.slack_bot_token.get_secret_value() if with_token and settings.slack_bot_token else None
    client = AsyncWebClient(token=token, base_url=settings.slack_api_url, timeout=TIMEOUT_SECONDS)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES))
    return client


class Poster:
    """An asyncio loop in its own thread: ``submit`` a coroutine from any thread."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slack-loop", daemon=True)
        self._thread.start()
        self._ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._ready.set)
        self.loop.run_forever()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        """Run ``coro`` on the Slack loop; failures are logged (never raised at the caller)."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        future.add_done_callback(_log_failure)
        return future

    def call_soon(self, fn: Any, *args: Any) -> None:
        """Call ``fn(*args)`` on the Slack loop (from any thread)."""
        self.loop.call_soon_threadsafe(fn, *args)

    def wait(self, coro: Awaitable[T], timeout: float) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    def close(self, grace: float = 5.0) -> None:
        """Let calls in flight finish (up to ``grace`` seconds), then stop the loop."""
        if self.loop.is_closed():
            return
        try:
            self.wait(_drain(grace), timeout=grace + 5)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)
            self.loop.close()


async def _drain(grace: float) -> None:
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


def _log_failure(future: Future[Any]) -> None:
    if future.cancelled():
        return
    exc = future.exception()
    if exc is not None:
        log.warning("a Slack call failed: %s: %s", type(exc).__name__, exc)
