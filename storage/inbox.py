"""The durable webhook inbox: bodies are written before Meta gets its 200, applied after."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import peewee

from storage.database import is_postgres
from storage.fields import from_db_time, to_db_time
from storage.sql import execute, fetchall, in_list, insert_rows


def put(database: peewee.Database, bodies: Sequence[bytes | str], now: datetime) -> list[int]:
    """Store bodies in one statement (the webhook's group commit); returns their ids.

    On PostgreSQL the rows go as two arrays unnested by the server: one
    statement however many bodies, atomic on its own, so outside a
    transaction it is one round trip and one commit. On SQLite the rows go in
    multi-row VALUES statements inside one transaction.
    """
    ts = to_db_time(now)
    rows = [(ts, b.decode() if isinstance(b, bytes) else b) for b in bodies]
    if is_postgres(database):
        stored = insert_rows(database, "webhook_inbox", _COLUMNS, rows, types=_TYPES, returning="id")
    else:
        with database.atomic():
            stored = insert_rows(database, "webhook_inbox", _COLUMNS, rows, returning="id")
    return [r[0] for r in stored]


_COLUMNS = ("received_at", "body")
_TYPES = ("timestamp", "text")


def take(
    database: peewee.Database, lease_until: datetime, limit: int, *, ids: Sequence[int] | None = None
) -> list[tuple[int, str]]:
    """Remove and return up to ``limit`` unapplied bodies, oldest first (call inside the
    transaction that applies them); with ``ids``, only bodies among those.

    Taking and applying commit together: if the apply fails or the process
    dies, the rollback puts the bodies back, and nothing is applied twice or
    lost. A body claimed by a processor of the older, two-transaction kind
    (``claimed_at`` set) is left to it until ``lease_until``. On PostgreSQL
    concurrent processors skip each other's rows instead of waiting.

    Without ``ids``, bodies that failed to apply before are left out: they are
    retried alone (``failed``), so one poison body never holds back a group.

    ``ids`` (bodies this process just stored) finds them by primary key. The
    scan for the oldest bodies instead passes every body deleted since the
    table was last vacuumed, which under a steady stream of webhooks costs
    PostgreSQL milliseconds a pass.
    """
    lock = " FOR UPDATE SKIP LOCKED" if is_postgres(database) else ""
    params: list[object] = []
    which = "processed_at IS NULL AND attempts = 0"  # a body that failed is retried alone
    if ids is not None:
        if not ids:
            return []
        # by primary key alone: rows just stored are unprocessed, and naming processed_at lets
        # PostgreSQL AND in its index, which holds an entry for every body deleted since the last
        # vacuum (webhook_inbox_todo is all NULLs)
        pred, params = in_list(database, ids, pg_type="bigint")
        which = f"id {pred}"
    rows = fetchall(
        database,
        "DELETE FROM webhook_inbox WHERE id IN ("
        f" SELECT id FROM webhook_inbox WHERE {which}"
        " AND (claimed_at IS NULL OR claimed_at < ?) ORDER BY id LIMIT ?" + lock + ")"
        " RETURNING id, body",
        [*params, to_db_time(lease_until), limit],
    )
    return sorted((r[0], r[1]) for r in rows)


def backlog(database: peewee.Database) -> int:
    row = execute(database, "SELECT COUNT(*) FROM webhook_inbox WHERE processed_at IS NULL").fetchone()
    return int(row[0])


def oldest(database: peewee.Database) -> datetime | None:
    """When the oldest body not applied yet was received (None when every body is applied)."""
    row = execute(
        database, "SELECT received_at FROM webhook_inbox WHERE processed_at IS NULL ORDER BY id LIMIT 1"
    ).fetchone()
    return from_db_time(row[0]) if row else None


QUARANTINE_AFTER = 5  # failed applies before a body is set aside


def failed(database: peewee.Database, limit: int) -> list[int]:
    """Bodies whose apply failed before, oldest first: each is retried alone."""
    rows = fetchall(
        database,
        "SELECT id FROM webhook_inbox WHERE attempts > 0 AND processed_at IS NULL ORDER BY id LIMIT ?",
        [limit],
    )
    return [r[0] for r in rows]


def fail(database: peewee.Database, body_id: int, error: str, now: datetime) -> bool:
    """Count a failed apply of one body; on the fifth, move it to the quarantine (kept whole,
    with the error as its reason). Returns whether it was quarantined."""
    rows = fetchall(
        database,
        "UPDATE webhook_inbox SET attempts = attempts + 1, last_error = ? WHERE id = ? RETURNING attempts",
        [error[:2000], body_id],
    )
    if not rows or int(rows[0][0]) < QUARANTINE_AFTER:
        return False
    quarantine(database, [body_id], error, now)
    return True


def quarantine(database: peewee.Database, ids: Sequence[int], reason: str, now: datetime) -> None:
    """Set these bodies aside at once (a body no parser can read is not retried)."""
    if not ids:
        return
    pred, params = in_list(database, list(ids))
    execute(
        database,
        "INSERT INTO webhook_quarantine (inbox_id, received_at, quarantined_at, attempts, reason, body)"
        f" SELECT id, received_at, ?, attempts, ?, body FROM webhook_inbox WHERE id {pred}",
        [to_db_time(now), reason[:2000], *params],
    )
    execute(database, f"DELETE FROM webhook_inbox WHERE id {pred}", params)


def quarantined(database: peewee.Database) -> int:
    row = execute(database, "SELECT COUNT(*) FROM webhook_quarantine").fetchone()
    return int(row[0])
