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
from storage.sql import (
    array_literal,
    bind_time,
    chunks,
    fetchall,
    in_list,
    insert_rows,
    update_from,
    update_rows,
)

_LOOKUP_CHUNK = 5000


class ContactState(NamedTuple):
    id: int
    phone: str | None
    name: str
    opted_in: bool
    status: str
    attributes: dict[str, Any]
    opt_out_source: str | None
    opted_out_at: datetime | None
    wa_user_id: str | None = None
    username: str | None = None


_STATE = "id, phone, name, opted_in, status, attributes, opt_out_source, opted_out_at, wa_user_id, username"

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
            found[row[1]] = _state(row)
    return found


def _state(row: Sequence[Any]) -> ContactState:
    return ContactState(
        row[0],
        row[1],
        row[2],
        bool(row[3]),
        row[4],
        orjson.loads(row[5]),
        row[6],
        from_db_time(row[7]),
        row[8],
        row[9],
    )


def find_by_user_ids(
    database: peewee.Database, user_ids: Sequence[str], *, lock: bool = False
) -> dict[str, ContactState]:
    """The contacts with these business-scoped user ids (``lock``: as ``find_by_phones``)."""
    found: dict[str, ContactState] = {}
    tail = " ORDER BY wa_user_id FOR UPDATE" if lock and is_postgres(database) else ""
    for part in chunks(sorted(set(user_ids)), _LOOKUP_CHUNK):
        pred, params = in_list(database, part, pg_type="text")
        for row in fetchall(database, f"SELECT {_STATE} FROM contact WHERE wa_user_id {pred}{tail}", params):
            found[row[8]] = _state(row)
    return found


def find_by_id(database: peewee.Database, contact_id: int, *, lock: bool = False) -> ContactState | None:
    tail = " FOR UPDATE" if lock and is_postgres(database) else ""
    rows = fetchall(database, f"SELECT {_STATE} FROM contact WHERE id = ?{tail}", [contact_id])
    return _state(rows[0]) if rows else None


def learn_user_ids(database: peewee.Database, pairs: Sequence[tuple[str | None, str, str | None]]) -> int:
    """A webhook named a user's phone and business-scoped user id (and username): the contact
    known by that phone learns the id (unless it has one, or another contact has it), and a
    contact known by the id takes a new username. One statement each. Returns contacts changed."""
    if not pairs:
        return 0
    rows = sorted({(p or "", u, n or "") for p, u, n in pairs})
    values = (("phone", "text"), ("user_id", "text"), ("username", "text"))
    learned = update_from(
        database,
        "contact",
        values,
        [(p, u, n or None) for p, u, n in rows if p],
        sets="wa_user_id = v.user_id, username = COALESCE(v.username, contact.username)",
        where="contact.phone = v.phone AND contact.wa_user_id IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM contact other WHERE other.wa_user_id = v.user_id)",
        returning="contact.id",
    )
    named = update_from(
        database,
        "contact",
        (("user_id", "text"), ("phone", "text"), ("username", "text")),
        sorted((user_id, phone or None, username) for phone, user_id, username in rows if username),
        key="wa_user_id",
        sets="username = v.username",
        where="contact.wa_user_id = v.user_id"
        " AND (contact.username IS NULL OR contact.username <> v.username)",
        returning="contact.id",
    )
    return len({r[0] for r in learned} | {r[0] for r in named})


def move_identity(database: peewee.Database, column: str, old: str, new: str, now: datetime) -> int | None:
    """The user changed number (``column`` phone) or user id (``wa_user_id``): the contact that
    had ``old`` has ``new`` now, unless another contact already has ``new`` (then nothing moves:
    merging two contacts is a person's decision). Returns the contact moved, or None."""
    assert column in ("phone", "wa_user_id")
    rows = fetchall(
        database,
        f"UPDATE contact SET {column} = ?, updated_at = ? WHERE {column} = ?"
        f" AND NOT EXISTS (SELECT 1 FROM contact other WHERE other.{column} = ?) RETURNING id",
        [new, to_db_time(now), old, new],
    )
    return int(rows[0][0]) if rows else None


def insert_contacts(
    database: peewee.Database,
    rows: Sequence[tuple[str | None, str, bool, dict[str, Any], str | None, str | None]],
    now: datetime,
    *,
    identity: str = "phone",
    source: str | None = None,
) -> dict[str, int]:
    """Insert ``(phone, name, opted_in, attributes, wa_user_id, username)`` rows; a contact that
    already exists (a concurrent insert) is skipped. Returns ``identity`` (the phone, or the
    user id of contacts without one) → id for rows inserted. A contact inserted opted out
    records ``source`` as where the opt-out came from (a STOP from someone never stored must
    not be undone by an import), and when.

    The caller has just looked the contacts up in this transaction, so a plain
    insert is tried first, under a savepoint: ``ON CONFLICT`` makes
    PostgreSQL insert speculatively (a check, then a confirmation record a
    row: ~1.5 of its ~5 µs). Only when another writer got there in between
    is the chunk inserted again with ``ON CONFLICT DO NOTHING``.
    """
    if not rows:
        return {}
    ts = bind_time(database, now)
    values = [
        (
            phone,
            name,
            opted_in,
            orjson.dumps(attrs).decode(),
            user_id,
            username,
            None if opted_in else source,
            None if opted_in else ts,
        )
        for phone, name, opted_in, attrs, user_id, username in rows
    ]

    def insert(conflict: str) -> list[tuple[Any, ...]]:
        return insert_rows(
            database,
            "contact",
            (
                "phone",
                "name",
                "opted_in",
                "attributes",
                "wa_user_id",
                "username",
                "opt_out_source",
                "opted_out_at",
            ),
            values,
            conflict=conflict,
            returning=f"id, {identity}",
            types=("text", "text", "boolean", "text", "text", "text", "text", "timestamp"),
            constants={"created_at": ts, "updated_at": ts},
        )

    try:
        with database.atomic():  # a savepoint: a conflict rolls back this insert alone
            inserted = insert("")
    except peewee.IntegrityError:
        inserted = insert("ON CONFLICT DO NOTHING")
    return {key: cid for cid, key in inserted}


class ContactChange(NamedTuple):
    id: int
    name: str
    opted_in: bool
    status: str
    attributes: dict[str, Any]
    opted_out_at: datetime | None
    opt_out_source: str | None
    phone: str | None = None
    wa_user_id: str | None = None
    username: str | None = None


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
            c.phone,
            c.wa_user_id,
            c.username,
        )
        for c in sorted(changes)  # in id order, as every other writer locks them
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
            "phone",
            "wa_user_id",
            "username",
        ),
        rows,
        casts=(
            "bigint",
            "text",
            "boolean",
            "text",
            "text",
            "timestamp",
            "text",
            "timestamp",
            "text",
            "text",
            "text",
        ),
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
