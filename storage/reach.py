"""Who templates reached lately, for the messaging limit: claims, hand-backs and the rolling count.

Each contact keeps when a template last reached it (``last_reach_at``) and the time
before (``prev_reach_at``, so a send that did not go can hand its claim back).
``reach_minute`` keeps, per minute, how many contacts' *last* reach falls in that
minute: a contact reached again moves from its old minute to the new one. So the
unique contacts reached since a moment are the sum of the minutes since then (at
most 1,441 rows for a day, whatever the size of the ledger), and a contact reached
twice in a day is counted once.

A claim or a hand-back is one statement on the contacts and one upsert of the
minutes it touches, in the caller's transaction. ``lock`` makes the read of the
count and the claims that follow one step for every process (PostgreSQL: an
advisory lock until the transaction ends; SQLite's IMMEDIATE transactions already
take the database's write lock).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

import peewee

from storage.database import is_postgres
from storage.fields import from_db_time, to_db_time
from storage.sql import execute, fetchall, in_list, insert_rows, update_from

BUCKET = timedelta(minutes=1)
_LOCK_KEY = 0x48524C4D  # "HRLM": the messaging limit's advisory lock on PostgreSQL


class Claim(NamedTuple):
    contact_id: int
    at: datetime  # the claim's moment: the contact's ``last_reach_at`` now
    prev: datetime | None  # its last reach before this claim


def bucket_of(moment: datetime) -> datetime:
    """The minute ``moment`` is counted in."""
    return moment.replace(second=0, microsecond=0)


def lock(database: peewee.Database) -> None:
    """Hold the messaging limit until this transaction ends (call inside one)."""
    if is_postgres(database):
        execute(database, "SELECT pg_advisory_xact_lock(?)", [_LOCK_KEY])


def used(database: peewee.Database, since: datetime) -> int:
    """Unique contacts whose last reach is in a minute from ``since`` on."""
    row = execute(
        database, "SELECT COALESCE(SUM(n), 0) FROM reach_minute WHERE minute >= ?", [to_db_time(since)]
    ).fetchone()
    return int(row[0] or 0)


def minutes(database: peewee.Database, since: datetime) -> list[tuple[datetime, int]]:
    """(minute, contacts whose last reach is in it), oldest first, from ``since`` on."""
    rows = fetchall(
        database,
        "SELECT minute, n FROM reach_minute WHERE minute >= ? AND n > 0 ORDER BY minute",
        [to_db_time(since)],
    )
    return [(_moment(m), int(n)) for m, n in rows]


def reached(database: peewee.Database, contact_ids: Sequence[int], since: datetime) -> set[int]:
    """Those of ``contact_ids`` last reached at or after ``since`` (they take no new room)."""
    if not contact_ids:
        return set()
    pred, params = in_list(database, sorted(set(contact_ids)))
    rows = fetchall(
        database,
        f"SELECT id FROM contact WHERE id {pred} AND last_reach_at >= ?",
        [*params, to_db_time(since)],
    )
    return {r[0] for r in rows}


def claim(
    database: peewee.Database, contact_ids: Sequence[int], now: datetime, since: datetime
) -> list[Claim]:
    """Mark the contacts reached at ``now``; returns each claim with the reach it replaced.

    Every contact moves to ``now``'s minute; one whose last reach was counted
    (from ``since`` on) leaves its old minute, so it is still counted once.
    """
    if not contact_ids:
        return []
    pred, params = in_list(database, sorted(set(contact_ids)))
    rows = fetchall(
        database,
        "UPDATE contact SET prev_reach_at = last_reach_at, last_reach_at = ?"
        f" WHERE id {pred} RETURNING id, prev_reach_at",
        [to_db_time(now), *params],
    )
    claims = [Claim(r[0], now, from_db_time(r[1])) for r in rows]
    deltas: Counter[datetime] = Counter()
    for c in claims:
        deltas[bucket_of(now)] += 1
        if c.prev is not None and c.prev >= since:
            deltas[bucket_of(c.prev)] -= 1
    _add(database, deltas)
    return claims


def release(database: peewee.Database, claims: Iterable[tuple[int, datetime]], since: datetime) -> int:
    """Hand back claims ``(contact id, claimed at)`` that are still the contacts' last reach.

    The contact's reach goes back to what it was before; a claim made since by
    another send is left alone. Returns how many were handed back.
    """
    at_of = dict(claims)
    wanted = sorted((contact_id, to_db_time(at)) for contact_id, at in at_of.items())
    if not wanted:
        return 0
    rows = update_from(
        database,
        "contact",
        (("id", "bigint"), ("at", "timestamp")),
        wanted,
        sets="last_reach_at = contact.prev_reach_at, prev_reach_at = NULL",
        where="contact.id = v.id AND contact.last_reach_at = v.at",
        returning="contact.id, contact.last_reach_at",
    )
    deltas: Counter[datetime] = Counter()
    for contact_id, before in rows:
        deltas[bucket_of(at_of[contact_id])] -= 1
        prev = from_db_time(before)
        if prev is not None and prev >= since:
            deltas[bucket_of(prev)] += 1
    _add(database, deltas)
    return len(rows)


def forget(database: peewee.Database, before: datetime) -> int:
    """Drop minutes older than ``before`` (no window reads them any more)."""
    cursor = execute(database, "DELETE FROM reach_minute WHERE minute < ?", [to_db_time(before)])
    return int(cursor.rowcount or 0)


def _add(database: peewee.Database, deltas: Counter[datetime]) -> None:
    """Add each minute's delta, in minute order (so two writers lock minutes in one order)."""
    rows = [(to_db_time(m), n) for m, n in sorted(deltas.items()) if n]
    insert_rows(
        database,
        "reach_minute",
        ("minute", "n"),
        rows,
        conflict="ON CONFLICT (minute) DO UPDATE SET n = reach_minute.n + excluded.n",
    )


def _moment(raw: object) -> datetime:
    moment = from_db_time(raw)  # type: ignore[arg-type]
    assert moment is not None
    return moment
