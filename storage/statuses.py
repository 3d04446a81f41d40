"""Ledger rows as delivery records, and statuses kept until their message is known."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import orjson
import peewee

from storage.fields import from_db_time, to_db_time
from storage.sql import fetchall, in_list, insert_rows, update_rows

_COLUMNS = (
    "id, broadcast_id, enrollment_id, contact_id, cap_claimed_at, state, wamid, accepted_at,"
    " delivered_at, read_at, failed_at, error_code, error_title, error_detail"
)


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


@dataclass(frozen=True)
class Row:
    id: int
    broadcast_id: int | None
    enrollment_id: int | None
    contact_id: int
    cap_claimed_at: datetime | None
    delivery: Delivery


def _row(r: tuple) -> Row:
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


def write(database: peewee.Database, rows: Sequence[Row]) -> None:
    update_rows(
        database,
        "outbound_message",
        "id",
        (
            "state",
            "wamid",
            "accepted_at",
            "delivered_at",
            "read_at",
            "failed_at",
            "error_code",
            "error_title",
            "error_detail",
        ),
        [
            (
                r.id,
                r.delivery.state,
                r.delivery.wamid,
                _t(r.delivery.accepted_at),
                _t(r.delivery.delivered_at),
                _t(r.delivery.read_at),
                _t(r.delivery.failed_at),
                r.delivery.error_code,
                r.delivery.error_title,
                r.delivery.error_detail,
            )
            for r in rows
        ],
        casts=(
            "bigint",
            "text",
            "text",
            "timestamp",
            "timestamp",
            "timestamp",
            "timestamp",
            "integer",
            "text",
            "text",
        ),
        literals={"batch": "NULL"},
        arrays=True,
    )


def _t(moment: datetime | None) -> datetime | None:
    return to_db_time(moment) if moment else None


class Pending(NamedTuple):
    wamid: str
    callback: str | None
    status: str
    at: datetime
    errors: list[dict[str, Any]]


def keep_pending(database: peewee.Database, pending: Sequence[Pending], now: datetime) -> None:
    insert_rows(
        database,
        "pending_status",
        ("wamid", "callback", "status", "at", "errors", "received_at"),
        [
            (
                p.wamid,
                p.callback,
                p.status,
                to_db_time(p.at),
                orjson.dumps(p.errors).decode(),
                to_db_time(now),
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
        f"DELETE FROM pending_status WHERE wamid {pred} RETURNING wamid, callback, status, at, errors",
        params,
    )
    return [Pending(w, c, s, _when(at), orjson.loads(e)) for w, c, s, at, e in rows]


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
