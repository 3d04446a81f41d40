"""Ledger rows as delivery records, and statuses kept until their message is known."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import orjson
import peewee

from storage.fields import from_db_time, to_db_time
from storage.sql import fetchall, in_list, insert_rows, update_from
from storage.states import SETTLED, RowState, sql_in

_COLUMNS = (
    "id, broadcast_id, enrollment_id, contact_id, cap_claimed_at, state, wamid, accepted_at,"
    " delivered_at, read_at, failed_at, error_code, error_title, error_detail,"
    " pricing_model, pricing_category, pricing_type, billable"
)


class Pricing(NamedTuple):
    """A status's ``pricing`` object: how Meta bills the message (per-message pricing, 2025)."""

    model: str | None  # PMP (per message) or CBP (per conversation, before July 2025)
    category: str | None  # marketing, utility, authentication, service, ...
    type: str | None  # regular, free_customer_service, free_entry_point
    billable: bool | None  # deprecated by Meta; kept when sent


@dataclass(frozen=True)
class Delivery:
    """The delivery part of one ledger row."""

    state: str
    wamid: str | None
    accepted_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    failed_at: datetime | None
    error_code: int | None = None
    error_title: str | None = None
    error_detail: str | None = None
    pricing: Pricing | None = None


@dataclass(frozen=True)
class Row:
    id: int
    broadcast_id: int | None
    enrollment_id: int | None
    contact_id: int
    cap_claimed_at: datetime | None
    delivery: Delivery


def _row(r: tuple[Any, ...]) -> Row:
    return Row(
        id=r[0],
        broadcast_id=r[1],
        enrollment_id=r[2],
        contact_id=r[3],
        cap_claimed_at=from_db_time(r[4]),
        delivery=Delivery(
            state=r[5],
            wamid=r[6],
            accepted_at=from_db_time(r[7]),
            delivered_at=from_db_time(r[8]),
            read_at=from_db_time(r[9]),
            failed_at=from_db_time(r[10]),
            error_code=r[11],
            error_title=r[12],
            error_detail=r[13],
            pricing=Pricing(r[14], r[15], r[16], None if r[17] is None else bool(r[17]))
            if any(v is not None for v in r[14:18])
            else None,
        ),
    )


def rows_for(database: peewee.Database, *, wamids: Sequence[str], ids: Sequence[int]) -> dict[int, Row]:
    """Ledger rows by wamid or by Herald id (two indexed lookups)."""
    found: dict[int, Row] = {}
    if wamids:
        pred, params = in_list(database, sorted(set(wamids)), pg_type="text")
        for r in fetchall(database, f"SELECT {_COLUMNS} FROM outbound_message WHERE wamid {pred}", params):
            found[r[0]] = _row(r)
    missing = sorted(set(ids) - set(found))
    if missing:
        pred, params = in_list(database, missing, pg_type="bigint")
        for r in fetchall(database, f"SELECT {_COLUMNS} FROM outbound_message WHERE id {pred}", params):
            found[r[0]] = _row(r)
    return found


# A status delta merged into the stored row by the update itself: each SET expression reads the
# row as it is when the update reaches it (on PostgreSQL, after any writer it waited for), never
# a copy read earlier. Timestamps keep the earliest moment, ``failed`` is final, and a row that
# is not settled takes the delta's error (an earlier attempt's is superseded), else the smallest
# code wins: the same rules as ``engine.statuses.merge``, which the tests hold it to.
_M = "outbound_message"
_SETTLED = f"{_M}.state IN {sql_in(SETTLED)}"
_WINS = f"(v.error_code IS NOT NULL AND ({_M}.error_code IS NULL OR v.error_code < {_M}.error_code))"


def _earliest(column: str) -> str:
    return (
        f"{column} = CASE WHEN v.{column} IS NULL THEN {_M}.{column}"
        f" WHEN {_M}.{column} IS NULL OR v.{column} < {_M}.{column} THEN v.{column} ELSE {_M}.{column} END"
    )


_PRICING = ("pricing_model", "pricing_category", "pricing_type", "billable")
_MERGE_SET = ", ".join(
    [
        f"state = CASE WHEN v.state = '{RowState.FAILED}' THEN '{RowState.FAILED}'"
        f" WHEN {_SETTLED} THEN {_M}.state ELSE '{RowState.SENT}' END",
        f"wamid = COALESCE({_M}.wamid, v.wamid)",
        *(_earliest(c) for c in ("accepted_at", "delivered_at", "read_at", "failed_at")),
        f"error_code = CASE WHEN NOT {_SETTLED} OR {_WINS} THEN v.error_code ELSE {_M}.error_code END",
        f"error_title = CASE WHEN NOT {_SETTLED} OR {_WINS} THEN v.error_title"
        f" WHEN {_M}.error_code IS NULL THEN COALESCE({_M}.error_title, v.error_title)"
        f" ELSE {_M}.error_title END",
        f"error_detail = CASE WHEN NOT {_SETTLED} OR {_WINS} THEN v.error_detail ELSE {_M}.error_detail END",
        # the pricing object comes once (with sent, and with delivered or read): the first stays
        *(f"{c} = COALESCE({_M}.{c}, v.{c})" for c in _PRICING),
        "batch = NULL",
    ]
)
_DELTA = (
    ("id", "bigint"),
    ("state", "text"),
    ("wamid", "text"),
    ("accepted_at", "timestamp"),
    ("delivered_at", "timestamp"),
    ("read_at", "timestamp"),
    ("failed_at", "timestamp"),
    ("error_code", "integer"),
    ("error_title", "text"),
    ("error_detail", "text"),
    ("pricing_model", "text"),
    ("pricing_category", "text"),
    ("pricing_type", "text"),
    ("billable", "boolean"),
)
# only a row whose wamid is this message's (or not recorded yet) takes its statuses
_SAME_MESSAGE = f"{_M}.id = v.id AND ({_M}.wamid IS NULL OR {_M}.wamid = v.wamid)"
_RETURNING = ", ".join(
    f"{_M}.{c}"
    for c in ("id", "broadcast_id", "enrollment_id", "contact_id", "cap_claimed_at", "state", "error_code")
)


class Written(NamedTuple):
    """A row as a status merge left it: what the caller acts on."""

    id: int
    broadcast_id: int | None
    enrollment_id: int | None
    contact_id: int
    cap_claimed_at: datetime | None
    state: str
    error_code: int | None


_NO_PRICING = Pricing(None, None, None, None)


def merge(database: peewee.Database, deltas: Sequence[tuple[int, Delivery]]) -> list[Written]:
    """Merge each ``(row id, delta)`` into its stored row; returns the rows written.

    One statement; rows are visited in id order, so two appliers never wait for
    each other in a cycle. A row whose wamid is another message's is left as it
    is and not returned.
    """
    values = [
        (
            row_id,
            d.state,
            d.wamid,
            _t(d.accepted_at),
            _t(d.delivered_at),
            _t(d.read_at),
            _t(d.failed_at),
            d.error_code,
            d.error_title,
            d.error_detail,
            *(d.pricing or _NO_PRICING),
        )
        for row_id, d in sorted(deltas, key=lambda pair: pair[0])
    ]
    written = update_from(
        database, _M, _DELTA, values, sets=_MERGE_SET, where=_SAME_MESSAGE, returning=_RETURNING
    )
    return [
        Written(r[0], r[1], r[2], r[3], from_db_time(r[4]) if r[4] else None, r[5], r[6]) for r in written
    ]


def _t(moment: datetime | None) -> datetime | None:
    return to_db_time(moment) if moment else None


class Pending(NamedTuple):
    wamid: str
    callback: str | None
    status: str
    at: datetime
    errors: list[dict[str, Any]]
    pricing: Pricing | None = None


def keep_pending(database: peewee.Database, pending: Sequence[Pending], now: datetime) -> None:
    insert_rows(
        database,
        "pending_status",
        ("wamid", "callback", "status", "at", "errors", "received_at", "pricing"),
        [
            (
                p.wamid,
                p.callback,
                p.status,
                to_db_time(p.at),
                orjson.dumps(p.errors).decode(),
                to_db_time(now),
                orjson.dumps(p.pricing).decode() if p.pricing else None,
            )
            for p in pending
        ],
    )


def take_pending(database: peewee.Database, wamids: Sequence[str]) -> list[Pending]:
    """Remove and return the pending statuses of ``wamids``."""
    if not wamids:
        return []
    pred, params = in_list(database, list(wamids))
    rows = fetchall(
        database,
        f"DELETE FROM pending_status WHERE wamid {pred}"
        " RETURNING wamid, callback, status, at, errors, pricing",
        params,
    )
    return [
        Pending(w, c, s, _when(at), orjson.loads(e), Pricing(*orjson.loads(p)) if p else None)
        for w, c, s, at, e, p in rows
    ]


def pending_recorded(database: peewee.Database, limit: int) -> list[str]:
    """Wamids of pending statuses whose send is recorded now: the hand-over the outcome write
    makes (``take_pending`` in its transaction) misses a status kept by an apply that committed
    after that write looked; the tick hands these over instead."""
    return [
        r[0]
        for r in fetchall(
            database,
            "SELECT DISTINCT p.wamid FROM pending_status p"
            " WHERE EXISTS (SELECT 1 FROM outbound_message m WHERE m.wamid = p.wamid) LIMIT ?",
            [limit],
        )
    ]


def _when(raw: object) -> datetime:
    moment = from_db_time(raw)  # type: ignore[arg-type]
    if moment is None:
        raise ValueError("a pending status without a time")
    return moment


def purge_pending(database: peewee.Database, before: datetime) -> int:
    """Forget pending statuses older than ``before``: statuses of messages Herald never
    recorded (a reply sent as free text) would otherwise wait forever."""
    cursor = database.execute_sql(
        database.param.join(["DELETE FROM pending_status WHERE received_at < ", ""]), (to_db_time(before),)
    )
    return int(cursor.rowcount or 0)
