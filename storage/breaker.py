"""The circuit breaker's tally: each broadcast's outcomes, failures and opt-outs, newest last.

A row per send batch (its outcomes and failures) and per webhook apply (failures
Meta reported later, recipients who opted out), so the breaker reads a broadcast's
last outcomes from a handful of rows instead of its ledger. Rows older than a
broadcast's window are pruned as new ones come; the tick forgets old ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

import peewee

from storage.fields import to_db_time
from storage.sql import execute, fetchall, in_list, insert_rows

READ = 400  # rows read per judgement: a window of 500 outcomes takes about 6 batches' rows
PRUNE_AFTER = 100  # rows past the window kept before they are deleted


class Tally(NamedTuple):
    outcomes: int  # sent or failed
    failures: int  # failed, but for recipients who stopped marketing (counted as opt-outs)
    optouts: int  # recipients who opted out or blocked (STOP, "Stop promotions", 131050)


def add(database: peewee.Database, tallies: Iterable[tuple[int, Tally]], now: datetime) -> None:
    """One row per broadcast with something to count (call inside the outcomes' transaction)."""
    rows = [(b, t.outcomes, t.failures, t.optouts) for b, t in sorted(tallies) if any(t)]
    insert_rows(
        database,
        "breaker_tally",
        ("broadcast_id", "outcomes", "failures", "optouts"),
        rows,
        constants={"at": to_db_time(now)},
    )


def window(database: peewee.Database, broadcast_id: int, size: int) -> Tally:
    """The broadcast's last ``size`` outcomes (or all it has), with the failures and opt-outs
    counted since the oldest of them. Prunes rows older than that."""
    rows = fetchall(
        database,
        "SELECT id, outcomes, failures, optouts FROM breaker_tally WHERE broadcast_id = ?"
        " ORDER BY id DESC LIMIT ?",
        [broadcast_id, READ],
    )
    outcomes = failures = optouts = 0
    kept = 0
    for _, n, failed, stopped in rows:
        if outcomes >= size:
            break
        outcomes, failures, optouts, kept = outcomes + n, failures + failed, optouts + stopped, kept + 1
    if len(rows) - kept > PRUNE_AFTER:
        execute(
            database,
            "DELETE FROM breaker_tally WHERE broadcast_id = ? AND id < ?",
            [broadcast_id, rows[kept - 1][0]],
        )
    return Tally(outcomes, failures, optouts)


def reset(database: peewee.Database, broadcast_ids: Sequence[int]) -> None:
    """Start the broadcasts' windows afresh (the breaker tripped on them)."""
    if broadcast_ids:
        pred, params = in_list(database, sorted(set(broadcast_ids)))
        execute(database, f"DELETE FROM breaker_tally WHERE broadcast_id {pred}", params)


def forget(database: peewee.Database, before: datetime) -> int:
    cursor = execute(database, "DELETE FROM breaker_tally WHERE at < ?", [to_db_time(before)])
    return int(cursor.rowcount or 0)


def recent_broadcasts(
    database: peewee.Database, contact_ids: Sequence[int], since: datetime
) -> list[tuple[int, int]]:
    """(broadcast id, contact id) for broadcasts that reached these contacts since ``since``."""
    if not contact_ids:
        return []
    pred, params = in_list(database, sorted(set(contact_ids)))
    rows = fetchall(
        database,
        "SELECT DISTINCT broadcast_id, contact_id FROM outbound_message"
        f" WHERE contact_id {pred} AND accepted_at >= ? AND broadcast_id IS NOT NULL",
        [*params, to_db_time(since)],
    )
    return [(int(b), int(c)) for b, c in rows]
