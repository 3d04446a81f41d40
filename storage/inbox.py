"""The durable webhook inbox: bodies are written before Meta gets its 200, applied after."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import peewee

from storage.database import is_postgres
from storage.fields import from_db_time, to_db_time
from storage.sql import execute, fetchall, in_list, insert_rows


def put(database: peewee.Database, bodies: Sequence[bytes | str], now: datetime) -> None:
    """Store bodies in one statement (the webhook's group commit)."""
    ts = to_db_time(now)
    insert_rows(
        database,
        "webhook_inbox",
        ("received_at", "body"),
        [(ts, b.decode() if isinstance(b, bytes) else b) for b in bodies],
    )


def claim(
    database: peewee.Database, now: datetime, lease_until: datetime, limit: int
) -> list[tuple[int, str]]:
    """Take up to ``limit`` unprocessed bodies, oldest first, for this processor.

    A body claimed by a processor that died is taken again once its claim is
    older than ``lease_until``. On PostgreSQL concurrent processors skip each
    other's rows instead of waiting.
    """
    lock = " FOR UPDATE SKIP LOCKED" if is_postgres(database) else ""
    return [
        (r[0], r[1])
        for r in fetchall(
            database,
            "UPDATE webhook_inbox SET claimed_at = ? WHERE id IN ("
            " SELECT id FROM webhook_inbox WHERE processed_at IS NULL"
            " AND (claimed_at IS NULL OR claimed_at < ?) ORDER BY id LIMIT ?" + lock + ")"
            " RETURNING id, body",
            [to_db_time(now), to_db_time(lease_until), limit],
        )
    ]


def done(database: peewee.Database, ids: Sequence[int]) -> None:
    """Forget applied bodies (statuses are idempotent, so nothing needs their history)."""
    if ids:
        pred, params = in_list(database, list(ids))
        execute(database, f"DELETE FROM webhook_inbox WHERE id {pred}", params)


def release(database: peewee.Database, ids: Sequence[int]) -> None:
    """Give claimed bodies back for the next processor (their apply failed and was rolled back)."""
    if ids:
        pred, params = in_list(database, list(ids))
        execute(database, f"UPDATE webhook_inbox SET claimed_at = NULL WHERE id {pred}", params)


def backlog(database: peewee.Database) -> int:
    row = execute(database, "SELECT COUNT(*) FROM webhook_inbox WHERE processed_at IS NULL").fetchone()
    return int(row[0])


def oldest(database: peewee.Database) -> datetime | None:
    """When the oldest body not applied yet was received (None when every body is applied)."""
    row = execute(
        database, "SELECT received_at FROM webhook_inbox WHERE processed_at IS NULL ORDER BY id LIMIT 1"
    ).fetchone()
    return from_db_time(row[0]) if row else None
