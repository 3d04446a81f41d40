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
from storage.sql import array_literal, execute, fetchall, in_list, insert_rows, update_from
from storage.states import RowState, sql_in

BUCKET = timedelta(minutes=1)
_LOCK_KEY = 0x48524C4D  # "HRLM": the messaging limit's advisory lock on PostgreSQL


class Claim(NamedTuple):
    contact_id: int
    at: datetime  # the claim's moment: the contact's ``last_reach_at`` now


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
    """Mark the contacts reached at ``now``; returns the claims (to hand back those not sent).

    Every contact moves to ``now``'s minute; one whose last reach was counted
    (from ``since`` on) leaves its old minute, so it is still counted once. On
    PostgreSQL the contacts and the minutes are one statement that returns nothing.
    """
    wanted = sorted(set(contact_ids))
    if not wanted:
        return []
    if is_postgres(database):
        _claim_in_one(database, wanted, now, since)
        return [Claim(c, now) for c in wanted]
    pred, params = in_list(database, wanted)
    rows = fetchall(
        database,
        "UPDATE contact SET prev_reach_at = last_reach_at, last_reach_at = ?"
        f" WHERE id {pred} RETURNING prev_reach_at",
        [to_db_time(now), *params],
    )
    deltas: Counter[datetime] = Counter({bucket_of(now): len(rows)})
    for (raw,) in rows:
        prev = from_db_time(raw)
        if prev is not None and prev >= since:
            deltas[bucket_of(prev)] -= 1
    _add(database, deltas)
    return [Claim(c, now) for c in wanted]


# The claim on PostgreSQL: the update's old reaches, counted per minute, and the new minute's
# count, added to ``reach_minute`` in minute order, all in the statement that moves the contacts.
_CLAIM = (
    "WITH moved AS (UPDATE contact SET prev_reach_at = last_reach_at, last_reach_at = ?"
    " WHERE id = ANY(?::bigint[]) RETURNING prev_reach_at),"
    " deltas AS (SELECT date_trunc('minute', prev_reach_at) AS minute, -COUNT(*) AS n FROM moved"
    " WHERE prev_reach_at >= ? GROUP BY 1"
    " UNION ALL SELECT ?::timestamp, COUNT(*) FROM moved)"
    " INSERT INTO reach_minute (minute, n) SELECT minute, SUM(n) FROM deltas GROUP BY minute"
    " HAVING SUM(n) <> 0 ORDER BY minute"
    " ON CONFLICT (minute) DO UPDATE SET n = reach_minute.n + excluded.n"
)


def _claim_in_one(
    database: peewee.Database, contact_ids: Sequence[int], now: datetime, since: datetime
) -> None:
    execute(
        database,
        _CLAIM,
        [to_db_time(now), array_literal(contact_ids), to_db_time(since), to_db_time(bucket_of(now))],
    )


def facts(database: peewee.Database, since: datetime, reason: str) -> tuple[int, int, int]:
    """In one statement: contacts counted since ``since``, and the rows held for ``reason``
    (held, and let go but not settled yet)."""
    row = execute(
        database,
        "SELECT (SELECT COALESCE(SUM(n), 0) FROM reach_minute WHERE minute >= ?),"
        f" (SELECT COUNT(*) FROM outbound_message WHERE held_reason = ? AND state = '{RowState.HELD}'),"
        " (SELECT COUNT(*) FROM outbound_message WHERE held_reason = ?"
        f" AND state IN {sql_in((RowState.QUEUED, RowState.DISPATCHED, RowState.SENDING))})",
        [to_db_time(since), reason, reason],
    ).fetchone()
    return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)


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
