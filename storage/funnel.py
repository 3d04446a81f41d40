"""Funnel counts straight from the send ledger: four statements per broadcast or step."""

from __future__ import annotations

from typing import NamedTuple

import peewee

from storage.sql import fetchall
from storage.states import PENDING, RowState, sql_in


class Counts(NamedTuple):
    total: int
    sent: int
    delivered: int
    read: int
    replied: int
    failed: int
    pending: int
    skipped: dict[str, int]
    failures: list[tuple[int | None, str | None, int]]  # (code, title, count), most first
    held: dict[str, int]  # of the pending: rows held by a rule, by reason


def ledger_counts(database: peewee.Database, where: str, params: list[object]) -> Counts:
    """Counts over ``outbound_message m WHERE <where>``."""
    row = fetchall(
        database,
        "SELECT COUNT(*),"
        " SUM(CASE WHEN m.accepted_at IS NOT NULL THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN m.delivered_at IS NOT NULL THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN m.read_at IS NOT NULL THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN m.replied_at IS NOT NULL THEN 1 ELSE 0 END),"
        f" SUM(CASE WHEN m.state = '{RowState.FAILED}' THEN 1 ELSE 0 END),"
        f" SUM(CASE WHEN m.state IN {sql_in(PENDING)} THEN 1 ELSE 0 END)"
        f" FROM outbound_message m WHERE {where}",
        params,
    )[0]
    skipped = {
        reason or "unknown": int(n)
        for reason, n in fetchall(
            database,
            f"SELECT m.skip_reason, COUNT(*) FROM outbound_message m WHERE {where}"
            f" AND m.state = '{RowState.SKIPPED}' GROUP BY m.skip_reason ORDER BY COUNT(*) DESC",
            params,
        )
    }
    failures = [
        (code, title, int(n))
        for code, title, n in fetchall(
            database,
            "SELECT m.error_code, m.error_title, COUNT(*) FROM outbound_message m"
            f" WHERE {where} AND m.state = '{RowState.FAILED}'"
            " GROUP BY m.error_code, m.error_title ORDER BY COUNT(*) DESC",
            params,
        )
    ]
    held = {
        reason or "unknown": int(n)
        for reason, n in fetchall(
            database,
            f"SELECT m.held_reason, COUNT(*) FROM outbound_message m WHERE {where}"
            f" AND m.state = '{RowState.HELD}' GROUP BY m.held_reason ORDER BY COUNT(*) DESC",
            params,
        )
    }
    return Counts(
        total=int(row[0] or 0),
        sent=int(row[1] or 0),
        delivered=int(row[2] or 0),
        read=int(row[3] or 0),
        replied=int(row[4] or 0),
        failed=int(row[5] or 0),
        pending=int(row[6] or 0),
        skipped=skipped,
        failures=failures,
        held=held,
    )


def broadcast_counts(database: peewee.Database, broadcast_id: int) -> Counts:
    return ledger_counts(database, "m.broadcast_id = ?", [broadcast_id])
