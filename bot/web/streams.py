"""Long bodies read on the event loop and worked on by a thread of their own (the CSV import).

The network is read on the event loop (``read_chunk``: the stall timeout,
the client that goes away); a plain thread, never one of the database
threads, inflates the bytes, cuts lines and checks rows (``BodyPieces``,
``on_a_thread``); and each chunk of checked rows is handed to a database
thread only when it is complete. An upload waiting on the network holds no
database thread, so slow uploads cannot starve ``/healthz`` or the webhooks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, TypeVar

from aiohttp import web

from bot.errors import BodyTooLarge
from bot.web.bodies import Inflater, read_chunk

T = TypeVar("T")
WAIT_STEP = 1.0  # s: how often a thread waiting on the event loop checks that it is still wanted


class Stopped(Exception):
    """The event loop side stopped listening (it failed, or the loop is closing)."""


class BodyPieces:
    """The bytes a request body stands for (inflated, if it was sent compressed), for a thread
    that is not the event loop's: each read runs on the loop and the thread waits for it.

    Raises BodyTooLarge (as soon as the body, or what it inflates to, passes
    ``limit``), MalformedBody, BodyStalled or ClientGone, on the thread.
    """

    def __init__(
        self,
        request: web.Request,
        loop: asyncio.AbstractEventLoop,
        *,
        encoding: str,
        limit: int,
        timeout: float,
        stop: threading.Event,
    ) -> None:
        self._request = request
        self._loop = loop
        self._limit = limit
        self._timeout = timeout
        self._stop = stop
        self._inflater = Inflater(encoding, limit, self._too_large)
        self.arrived = 0  # bytes received, as sent

    def _too_large(self) -> BodyTooLarge:
        return BodyTooLarge(
            f"the upload is larger than {self._limit:,} bytes.",
            field="body",
            hint="Split the file, or raise IMPORT_MAX_BYTES.",
        )

    def __iter__(self) -> Iterator[bytes]:
        while True:
            data = wait_on(self._loop, read_chunk(self._request, self._timeout), self._stop)
            if not data:
                break
            self.arrived += len(data)
            if self.arrived > self._limit:
                raise self._too_large()
            yield from self._inflater.feed(data)
        yield from self._inflater.end()


def wait_on(loop: asyncio.AbstractEventLoop, work: Coroutine[Any, Any, T], stop: threading.Event) -> T:
    """Run ``work`` on ``loop`` and wait for it from this (other) thread. Raises Stopped once
    ``stop`` is set or the loop closes, and whatever ``work`` raises."""
    future = asyncio.run_coroutine_threadsafe(work, loop)
    while True:
        try:
            return future.result(timeout=WAIT_STEP)
        except concurrent.futures.TimeoutError:
            if stop.is_set() or loop.is_closed():
                future.cancel()
                raise Stopped() from None


async def on_a_thread(
    produce: Callable[[threading.Event], Iterator[T]], *, name: str, depth: int = 2
) -> AsyncIterator[T]:
    """The items of ``produce(stop)``, run on a thread of its own, as they come.

    At most ``depth`` items wait, so a slow consumer slows the thread down
    instead of piling items up. What ``produce`` raises is raised here, after
    the items before it. When the consumer stops early, ``stop`` is set and
    the thread gives up at its next item or its next wait.
    """
    loop = asyncio.get_running_loop()
    handed: asyncio.Queue[tuple[bool, Any]] = asyncio.Queue(depth)
    stop = threading.Event()

    def hand(done: bool, item: Any) -> None:
        if stop.is_set():
            raise Stopped()
        wait_on(loop, handed.put((done, item)), stop)

    def run() -> None:
        try:
            for item in produce(stop):
                hand(False, item)
            hand(True, None)
        except Stopped:
            return
        except BaseException as exc:  # raised on the event loop, in order
            try:
                hand(True, exc)
            except Stopped:
                return

    threading.Thread(target=run, name=name, daemon=True).start()
    try:
        while True:
            done, item = await handed.get()
            if done:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        while not handed.empty():  # a hand() waiting for room finishes, and the thread sees stop
            handed.get_nowait()
