"""Open the database named by a URL, with the settings each engine needs.

SQLite is the embedded default: WAL so readers never wait for the writer,
foreign keys on, a busy timeout so concurrent writers queue instead of
failing, and IMMEDIATE transactions so a read-then-write transaction never
deadlocks on lock upgrade. PostgreSQL is pooled.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, unquote, urlsplit

import peewee
from playhouse.pool import PooledPostgresqlDatabase

from storage.errors import DatabaseUrlError

# Timestamps are naive UTC; on SQLite they are stored as "YYYY-MM-DD HH:MM:SS[.ffffff]" text,
# which sorts and compares correctly. Registered explicitly: Python 3.12 deprecates the default.
sqlite3.register_adapter(datetime, lambda value: value.isoformat(" "))

SQLITE_PRAGMAS = (  # applied in order: the busy timeout first, so switching to WAL can wait
    ("busy_timeout", 15000),  # ms: several workers share one file
    ("journal_mode", "wal"),
    ("foreign_keys", 1),
    ("synchronous", "normal"),  # WAL + NORMAL: durable across app crashes, fast commits
    ("cache_size", -65536),  # KiB
    ("temp_store", "memory"),
)

_WAL_SWITCH_WAIT = 15.0  # seconds a new connection waits for another to finish switching to WAL


class _SqliteDatabase(peewee.SqliteDatabase):
    """SQLite whose connection set-up survives other processes opening a brand-new file at once.

    Switching a new file to WAL takes an exclusive lock without calling the busy handler, so a
    process that loses that race gets "database is locked" at connect; it retries instead.
    """

    def _set_pragmas(self, conn: sqlite3.Connection) -> None:
        deadline = time.monotonic() + _WAL_SWITCH_WAIT
        delay = 0.005
        while True:
            try:
                super()._set_pragmas(conn)  # type: ignore[misc]
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.2)


URL_USAGE = "use sqlite:///path/to/file.db or postgresql://user@host:port/dbname"


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed DATABASE_URL. ``describe()`` never includes the password."""

    engine: str  # "sqlite" | "postgresql"
    path: str = ""  # sqlite file path
    name: str = ""
    user: str | None = None
    password: str | None = None
    host: str | None = None
    port: int | None = None
    max_connections: int = 32

    def describe(self) -> str:
        if self.engine == "sqlite":
            return f"sqlite ({self.path})"
        where = f"{self.host or 'localhost'}:{self.port or 5432}"
        return f"postgresql ({self.user + '@' if self.user else ''}{where}/{self.name})"


def parse_database_url(url: str) -> DatabaseUrl:
    """Parse ``sqlite:///path`` or ``postgresql://user:pw@host:port/db``.

    Raises DatabaseUrlError naming what is wrong.
    """
    if not url or "://" not in url:
        raise DatabaseUrlError(f"{url!r} is not a database URL; {URL_USAGE}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise DatabaseUrlError(f"{_safe(url)!r} is malformed ({exc}); {URL_USAGE}") from exc
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        path = url.split("://", 1)[1]
        if not path.startswith("/") or path == "/":
            raise DatabaseUrlError(f"{url!r} has no file path; {URL_USAGE}")
        path = path[1:].split("?", 1)[0]
        return DatabaseUrl(engine="sqlite", path=path or ":memory:")
    if scheme in ("postgresql", "postgres"):
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise DatabaseUrlError(f"{_safe(url)!r} names no database; {URL_USAGE}")
        query = parse_qs(parts.query)
        max_conn = int(query.get("max_connections", ["32"])[0])
        return DatabaseUrl(
            engine="postgresql",
            name=name,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            host=parts.hostname,
            port=port,
            max_connections=max_conn,
        )
    raise DatabaseUrlError(f"unsupported database scheme {scheme!r}; {URL_USAGE}")


def _safe(url: str) -> str:
    """The URL with any password replaced, for error messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable>"
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def open_database(url: str | DatabaseUrl) -> peewee.Database:
    """A peewee database for the URL; connections open lazily, per thread."""
    spec = parse_database_url(url) if isinstance(url, str) else url
    if spec.engine == "sqlite":
        return _SqliteDatabase(
            spec.path,
            pragmas=SQLITE_PRAGMAS,
            lock_type="IMMEDIATE",
            timeout=15,
            check_same_thread=False,
        )
    kwargs: dict[str, object] = {}
    for key in ("user", "password", "host", "port"):
        value = getattr(spec, key)
        if value is not None:
            kwargs[key] = value
    return PooledPostgresqlDatabase(
        spec.name,
        max_connections=spec.max_connections,
        stale_timeout=300,
        timeout=30,
        **kwargs,
    )


def is_postgres(database: peewee.Database) -> bool:
    return isinstance(database, peewee.PostgresqlDatabase)
