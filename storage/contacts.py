"""Set-based contact, tag and contact-tag statements (one round trip per chunk)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import orjson
import peewee

from storage.database import is_postgres
from storage.fields import from_db_time, to_db_time
from storage.sql import array_literal, bind_time, chunks, fetchall, in_list, insert_rows, update_rows

_LOOKUP_CHUNK = 5000


class ContactState(NamedTuple):
    id: int
    phone: str
    name: str
    opted_in: bool
    status: str
    attributes: dict[str, Any]
    opt_out_source: str | None
    opted_out_at: datetime | None


_STATE = "id, phone, name, opted_in, status, attributes, opt_out_source, opted_out_at"

# PostgreSQL: one index probe per phone, whatever the table's size or statistics. Given
# "phone = ANY(array)", the planner turned to a sequential scan with a hashed filter once the
# table passed ~100,000 rows, and back to the index past ~600,000: 20 µs a phone in between
# against ~2 (LIMIT 1 keeps the lateral subquery from being flattened into a join).
_BY_PHONES_PG = (
    f"SELECT {_STATE} FROM unnest(?::text[]) AS p (wanted)"
    f" CROSS JOIN LATERAL (SELECT {_STATE} FROM contact WHERE phone = p.wanted LIMIT 1{{lock}}) AS c"
)


def find_by_phones(
    database: peewee.Database, phones: Sequence[str], *, lock: bool = False
) -> dict[str, ContactState]:
    """The contacts with these phones. ``lock`` (for a caller that writes what it decides from
    them, in its transaction) holds their rows until it commits, taken in phone order so that
    two such writers never wait for each other in a cycle: on PostgreSQL a STOP committed
    between this read and the write would otherwise be written back as it was read. (SQLite's
    transactions are IMMEDIATE: one writer at a time already.)"""
    found: dict[str, ContactState] = {}
    wanted = sorted(set(phones)) if lock else list(dict.fromkeys(phones))
    for part in chunks(wanted, _LOOKUP_CHUNK):
        if is_postgres(database):
            sql = _BY_PHONES_PG.format(lock=" FOR UPDATE" if lock else "")
            params = [array_literal(part)]
        else:
            pred, params = in_list(database, part)
            sql = f"SELECT {_STATE} FROM contact WHERE phone {pred}"
        for row in fetchall(database, sql, params):
            found[row[1]] = ContactState(
                row[0],
                row[1],
                row[2],
                bool(row[3]),
                row[4],
                orjson.loads(row[5]),
                row[6],
                from_db_time(row[7]),
            )
    return found


def insert_contacts(
    database: peewee.Database, rows: Sequence[tuple[str, str, bool, dict[str, Any]]], now: datetime
) -> dict[str, int]:
    """Insert ``(phone, name, opted_in, attributes)`` rows; a phone that already
    exists (a concurrent insert) is skipped. Returns phone → id for rows inserted.

    The caller has just looked the phones up in this transaction, so a plain
    insert is tried first, under a savepoint: ``ON CONFLICT`` makes
    PostgreSQL insert speculatively (a check, then a confirmation record a
    row: ~1.5 of its ~5 µs). Only when another writer got there in between
    is the chunk inserted again with ``ON CONFLICT (phone) DO NOTHING``.
    """
    if not rows:
        return {}
    ts = bind_time(database, now)
    values = [(phone, name, opted_in, orjson.dumps(attrs).decode()) for phone, name, opted_in, attrs in rows]

    def insert(conflict: str) -> list[tuple[Any, ...]]:
        return insert_rows(
            database,
            "contact",
            ("phone", "name", "opted_in", "attributes"),
            values,
            conflict=conflict,
            returning="id, phone",
            types=("text", "text", "boolean", "text"),
            constants={"created_at": ts, "updated_at": ts},
        )

    try:
        with database.atomic():  # a savepoint: a conflict rolls back this insert alone
            inserted = insert("")
    except peewee.IntegrityError:
        inserted = insert("ON CONFLICT (phone) DO NOTHING")
    return {phone: cid for cid, phone in inserted}


class ContactChange(NamedTuple):
    id: int
    name: str
    opted_in: bool
    status: str
    attributes: dict[str, Any]
    opted_out_at: datetime | None
    opt_out_source: str | None


def update_contacts(database: peewee.Database, changes: Sequence[ContactChange], now: datetime) -> None:
    ts = to_db_time(now)
    rows = [
        (
            c.id,
            c.name,
            c.opted_in,
            c.status,
            orjson.dumps(c.attributes).decode(),
            to_db_time(c.opted_out_at) if c.opted_out_at else None,
            c.opt_out_source,
            ts,
        )
        for c in changes
    ]
    update_rows(
        database,
        "contact",
        "id",
        (
            "name",
            "opted_in",
            "status",
            "attributes",
            "opted_out_at",
            "opt_out_source",
            "updated_at",
        ),
        rows,
        casts=("bigint", "text", "boolean", "text", "text", "timestamp", "text", "timestamp"),
    )


def ensure_tags(database: peewee.Database, names: Sequence[str], now: datetime) -> dict[str, int]:
    """Tag name → id, creating the missing tags."""
    if not names:
        return {}
    wanted = sorted(set(names))
    insert_rows(
        database,
        "tag",
        ("name", "created_at"),
        [(n, to_db_time(now)) for n in wanted],
        conflict="ON CONFLICT (name) DO NOTHING",
    )
    pred, params = in_list(database, wanted)
    return {
        name: tid for tid, name in fetchall(database, f"SELECT id, name FROM tag WHERE name {pred}", params)
    }


def tag_ids(database: peewee.Database, names: Sequence[str]) -> dict[str, int]:
    """Existing tags only: name → id."""
    if not names:
        return {}
    pred, params = in_list(database, list(set(names)))
    return {
        name: tid for tid, name in fetchall(database, f"SELECT id, name FROM tag WHERE name {pred}", params)
    }


def link_tags(
    database: peewee.Database,
    pairs: Sequence[tuple[int, int]],
    now: datetime,
    *,
    fresh: Collection[int] = (),
) -> list[tuple[int, int]]:
    """Link (contact_id, tag_id) pairs; returns only the pairs that were new.

    On PostgreSQL contact_tag has no foreign keys (migration 0007: they cost
    two parent look-ups and a row lock per link). The ids must name rows that
    exist: contacts this transaction inserted or read, tags from
    ``ensure_tags`` or ``tag_ids``. Contacts and tags are never deleted, so a
    link made this way stays valid.

    ``fresh`` names contacts inserted by this transaction: they cannot have
    links yet (no other transaction sees them), so theirs are inserted
    without the conflict check, which costs the server a speculative insert
    per row.
    """
    at = {"created_at": bind_time(database, now)}
    new: list[tuple[int, int]] = []
    known: list[tuple[int, int]] = []
    for pair in dict.fromkeys(pairs):  # without repeats, in the caller's order
        (new if pair[0] in fresh else known).append(pair)
    known.sort()  # existing contacts' links in key order, as any other writer takes them
    columns = ("contact_id", "tag_id")
    types = ("bigint", "bigint")
    insert_rows(database, "contact_tag", columns, new, types=types, constants=at)
    linked = insert_rows(
        database,
        "contact_tag",
        columns,
        known,
        conflict="ON CONFLICT (contact_id, tag_id) DO NOTHING",
        returning="contact_id, tag_id",
        types=types,
        constants=at,
    )
    return new + [(cid, tid) for cid, tid in linked]


def unlink_tag(database: peewee.Database, contact_id: int, tag_id: int) -> bool:
    cursor = database.execute_sql(
        database.param.join(["DELETE FROM contact_tag WHERE contact_id = ", " AND tag_id = ", ""]),
        (contact_id, tag_id),
    )
    return bool(cursor.rowcount)


def tags_for(database: peewee.Database, contact_ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for part in chunks(list(contact_ids), _LOOKUP_CHUNK):
        pred, params = in_list(database, part)
        for cid, name in fetchall(
            database,
            "SELECT ct.contact_id, t.name FROM contact_tag ct JOIN tag t ON t.id = ct.tag_id"
            f" WHERE ct.contact_id {pred} ORDER BY t.name",
            params,
        ):
            out[cid].append(name)
    return out
