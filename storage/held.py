"""Held ledger rows: rows that wait by rule (``storage.states.HeldReason``), let go by the tick.

A row is ``held`` by the send pipeline (``storage.ledger.record``) with its reason and the
moment it may go (``next_attempt_at``). The tick lets rows go back to the queue when their
moment comes (``release_due``) or, for the messaging limit, as the limit has room, oldest
first (``release_oldest``). The reason stays on a row until it settles, so what the limit
let go and is not sent yet is counted (``held_counts``). Every statement here reads only
rows with a reason (the partial index ``outbound_held``), never the queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import peewee

from storage.fields import to_db_time
from storage.sql import execute, fetchall, in_list
from storage.states import BroadcastStatus, HeldReason, RowState, TemplateStatus, sql_in

_HELD = f"state = '{RowState.HELD}'"


def release_due(database: peewee.Database, reason: HeldReason, now: datetime, limit: int) -> int:
    """Held rows whose moment has come back to the queue (at most ``limit``, oldest first)."""
    rows = fetchall(
        database,
        f"SELECT id FROM outbound_message WHERE held_reason = ? AND {_HELD} AND next_attempt_at <= ?"
        " ORDER BY next_attempt_at, id LIMIT ?",
        [str(reason), to_db_time(now), limit],
    )
    return _release(database, [r[0] for r in rows])


def release_oldest(database: peewee.Database, reason: HeldReason, limit: int) -> int:
    """The ``limit`` rows held longest for ``reason`` back to the queue, whatever their moment
    (the messaging limit has room for them). The reason stays on them until they settle."""
    if limit <= 0:
        return 0
    rows = fetchall(
        database,
        f"SELECT id FROM outbound_message WHERE held_reason = ? AND {_HELD}"
        " ORDER BY next_attempt_at, id LIMIT ?",
        [str(reason), limit],
    )
    return _release(database, [r[0] for r in rows])


def _release(database: peewee.Database, ids: Sequence[int]) -> int:
    if not ids:
        return 0
    pred, params = in_list(database, list(ids))
    cursor = execute(
        database,
        f"UPDATE outbound_message SET state = '{RowState.QUEUED}', next_attempt_at = NULL"
        f" WHERE id {pred} AND state || '' = '{RowState.HELD}'",
        params,
    )
    return int(cursor.rowcount or 0)


def held_counts(database: peewee.Database, reason: HeldReason) -> tuple[int, int]:
    """Rows with ``reason``: (held, let go and not settled yet)."""
    rows = fetchall(
        database,
        "SELECT state, COUNT(*) FROM outbound_message WHERE held_reason = ?"
        f" AND state IN {sql_in((RowState.HELD, RowState.QUEUED, RowState.DISPATCHED, RowState.SENDING))}"
        " GROUP BY state",
        [str(reason)],
    )
    counts = dict(rows)
    held = int(counts.pop(RowState.HELD.value, 0))
    return held, sum(int(n) for n in counts.values())


def held_by_reason(database: peewee.Database) -> dict[str, int]:
    """Held rows across the ledger, by reason (``/metrics``)."""
    rows = fetchall(
        database,
        "SELECT held_reason, COUNT(*) FROM outbound_message"
        f" WHERE held_reason IS NOT NULL AND {_HELD} GROUP BY held_reason",
    )
    return {str(reason): int(n) for reason, n in rows}


def held_broadcasts(database: peewee.Database) -> list[tuple[str, str | None, str, int]]:
    """(status, held reason, template status, rows not sent yet) of each broadcast a rule may
    hold whole: paused with a reason, or sending a template that is not approved. The rows are
    counted per broadcast through its index, never by reading the queue."""
    waiting = sql_in((RowState.QUEUED, RowState.DISPATCHED, RowState.SENDING))
    rows = fetchall(
        database,
        "SELECT b.status, b.held_reason, t.status, (SELECT COUNT(*) FROM outbound_message m"
        f" WHERE m.broadcast_id = b.id AND m.state IN {waiting})"
        " FROM broadcast b JOIN template t ON t.id = b.template_id"
        f" WHERE (b.status = '{BroadcastStatus.PAUSED}' AND b.held_reason IS NOT NULL)"
        f" OR (b.status = '{BroadcastStatus.SENDING}' AND t.status <> '{TemplateStatus.APPROVED}')",
    )
    return [(str(s), r, str(t), int(n)) for s, r, t, n in rows]
