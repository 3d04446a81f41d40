"""Run synchronous database work from asyncio: one helper, one thread pool, managed connections.

Each pool thread keeps its own connection open (SQLite connections are per
thread; PostgreSQL connections come from the pool), so a request pays for a
statement, not for a connect. A connection that died (a PostgreSQL restart)
is dropped and the work is retried once on a fresh one: the failed attempt's
transaction was rolled back with the connection, so the retry cannot apply
anything twice.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

import peewee

from storage.errors import ConnectionLost

P = ParamSpec("P")
T = TypeVar("T")

_LOST = (peewee.InterfaceError, peewee.OperationalError)


def _connection_dead(database: peewee.Database, exc: Exception) -> bool:
    text = str(exc).lower()
    markers = (
        "closed",
        "terminat",
        "server closed",
        "connection",
        "could not connect",
        "broken pipe",
    )
    return any(m in text for m in markers) and not isinstance(database, peewee.SqliteDatabase)


def call_with_connection(
    database: peewee.Database, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """Call ``fn`` on this thread's connection, reconnecting once if it was lost."""
    for attempt in (1, 2):
        try:
            database.connect(reuse_if_open=True)
            return fn(*args, **kwargs)
        except _LOST as exc:
            if not _connection_dead(database, exc):
                raise
            _discard(database)
            if attempt == 2:
                raise ConnectionLost(f"database connection lost: {exc}") from exc
    raise AssertionError("unreachable")


def _discard(database: peewee.Database) -> None:
    """Drop this thread's connection without returning it to the pool."""
    try:
        manual = getattr(database, "manual_close", None)
        if manual is not None:
            manual()
        else:
            database.close()
    except peewee.PeeweeException:
        pass
    except Exception:
        state = database._state  # type: ignore[attr-defined]  # peewee keeps the per-thread connection here
        state.reset()


class DbRunner:
    """``await runner(fn, *args)`` runs ``fn`` in a database thread."""

    def __init__(self, database: peewee.Database, *, threads: int = 8) -> None:
        self.database = database
        self._threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="db")
        self._closed = threading.Event()

    async def __call__(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        call = functools.partial(call_with_connection, self.database, fn, *args, **kwargs)
        return await loop.run_in_executor(self._pool, call)

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        # One closing task per thread (the barrier keeps them on distinct
        # threads), so every thread hands its connection back.
        barrier = threading.Barrier(self._threads)

        def close_here() -> None:
            barrier.wait(timeout=10)
            if not self.database.is_closed():
                self.database.close()

        for future in [self._pool.submit(close_here) for _ in range(self._threads)]:
            future.result()
        self._pool.shutdown(wait=True)
