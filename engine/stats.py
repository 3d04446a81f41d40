"""Delivery numbers for periods of time: what the daily digest and ``stats`` report.

Counted from the send ledger, contacts and enrollments for UTC windows
(``start`` inclusive, ``end`` exclusive), in a fixed handful of set-based
statements however many windows are asked for at once:

    sent                 messages WhatsApp accepted in the window; delivered, read and
                         replied count those of them that got that far (so each is a
                         subset of sent, whenever its status arrived)
    failed               messages that failed in the window, and why
    skipped              ledger rows skipped, by reason, for rows made in the window
    opt_outs             contacts who opted out in the window (and have not opted back in)
    enrolled             sequence enrollments started in the window
    completed / exited   enrollments that finished in the window, each way

``report`` also lists the broadcasts started in the window with their funnels,
and the same numbers for the window of equal length just before, to compare.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import peewee

from engine.funnel import failure_reasons
from storage.fields import from_db_time, to_db_time
from storage.sql import fetchall, in_list
from storage.states import PENDING, EnrollmentStatus, RowState, sql_in

Window = tuple[datetime, datetime]  # aware UTC: [start, end)
BROADCAST_LINES = 10


@dataclass(frozen=True)
class Totals:
    sent: int = 0
    delivered: int = 0
    read: int = 0
    replied: int = 0
    failed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    failed_reasons: dict[str, int] = field(default_factory=dict)
    opt_outs: int = 0
    enrolled: int = 0
    completed: int = 0
    exited: int = 0

    @property
    def cap_skips(self) -> int:
        return self.skipped.get("frequency_cap", 0)

    @property
    def quiet(self) -> bool:
        """Nothing at all happened."""
        counts = (self.sent, self.failed, self.opt_outs, self.enrolled, self.completed, self.exited)
        return not any(counts) and not self.skipped


@dataclass(frozen=True)
class BroadcastLine:
    """A broadcast started in the period, with its whole funnel so far."""

    id: int
    name: str
    template: str
    status: str
    started_at: datetime
    total: int
    sent: int
    delivered: int
    read: int
    replied: int
    failed: int
    skipped: int
    pending: int


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    totals: Totals
    previous: Totals  # the window of the same length just before ``start``
    broadcasts: list[BroadcastLine]
    more_broadcasts: int  # started in the period but not listed

    @property
    def quiet(self) -> bool:
        """Nothing happened in the period nor the one before."""
        return self.totals.quiet and self.previous.quiet and not (self.broadcasts or self.more_broadcasts)


def report(
    database: peewee.Database, start: datetime, end: datetime, *, lines: int = BROADCAST_LINES
) -> Period:
    """The numbers for ``[start, end)``, the window before it, and up to ``lines`` broadcasts."""
    current, previous = totals(database, [(start, end), (start - (end - start), start)])
    listed, more = broadcasts_started(database, start, end, limit=lines)
    return Period(start, end, current, previous, listed, more)


def change(current: int, previous: int) -> float | None:
    """The relative change from ``previous`` to ``current`` (0.25 is +25%); None from zero."""
    if previous == 0:
        return None
    return (current - previous) / previous


def totals(database: peewee.Database, windows: Sequence[Window]) -> list[Totals]:
    """``Totals`` for each window, in order: five statements whatever ``len(windows)``."""
    if not windows:
        return []
    span = (_db(min(w[0] for w in windows)), _db(max(w[1] for w in windows)))
    bounds = [(_db(a), _db(b)) for a, b in windows]
    sends = _sends(database, bounds, span)
    skipped = _grouped(
        database,
        bounds,
        "m.created_at",
        f"SELECT m.skip_reason, {{sums}} FROM outbound_message m WHERE m.state = '{RowState.SKIPPED}'"
        " AND m.created_at >= ? AND m.created_at < ? GROUP BY m.skip_reason",
        span,
        key_width=1,
    )
    failures = _grouped(
        database,
        bounds,
        "m.failed_at",
        "SELECT m.error_code, m.error_title, {sums} FROM outbound_message m"
        f" WHERE m.state = '{RowState.FAILED}'"
        " AND m.failed_at >= ? AND m.failed_at < ? GROUP BY m.error_code, m.error_title",
        span,
        key_width=2,
    )
    opt_outs = _row(
        database,
        f"SELECT {_sums('c.opted_out_at', len(bounds))} FROM contact c"
        " WHERE c.opted_out_at >= ? AND c.opted_out_at < ?",
        [*_flat(bounds), *span],
    )
    started = _sums("e.enrolled_at", len(bounds))
    completed = _sums("e.finished_at", len(bounds), also=f"e.status = '{EnrollmentStatus.COMPLETED}'")
    exited = _sums("e.finished_at", len(bounds), also=f"e.status = '{EnrollmentStatus.EXITED}'")
    enrollments = _row(
        database,
        f"SELECT {started}, {completed}, {exited}"
        " FROM enrollment e WHERE (e.enrolled_at >= ? AND e.enrolled_at < ?)"
        " OR (e.finished_at >= ? AND e.finished_at < ?)",
        [*_flat(bounds), *_flat(bounds), *_flat(bounds), *span, *span],
    )
    n = len(bounds)
    out = []
    for i in range(n):
        sent, delivered, read, replied, failed = sends[i * 5 : i * 5 + 5]
        out.append(
            Totals(
                sent=sent,
                delivered=delivered,
                read=read,
                replied=replied,
                failed=failed,
                skipped={(k[0] or "unknown"): v[i] for k, v in skipped if v[i]},
                failed_reasons=failure_reasons([(k[0], k[1], v[i]) for k, v in failures if v[i]]),
                opt_outs=opt_outs[i],
                enrolled=enrollments[i],
                completed=enrollments[n + i],
                exited=enrollments[2 * n + i],
            )
        )
    return out


def broadcasts_started(
    database: peewee.Database, start: datetime, end: datetime, *, limit: int
) -> tuple[list[BroadcastLine], int]:
    """Broadcasts started in ``[start, end)`` (first ``limit`` by start time) and how many more."""
    window = [_db(start), _db(end)]
    rows = fetchall(
        database,
        "SELECT b.id, b.name, t.name, b.status, b.started_at FROM broadcast b"
        " JOIN template t ON t.id = b.template_id"
        " WHERE b.started_at >= ? AND b.started_at < ? ORDER BY b.started_at, b.id LIMIT ?",
        [*window, limit],
    )
    count = _row(
        database, "SELECT COUNT(*) FROM broadcast b WHERE b.started_at >= ? AND b.started_at < ?", window
    )[0]
    if not rows:
        return [], count
    pred, params = in_list(database, [r[0] for r in rows])
    funnels = {
        r[0]: [int(v or 0) for v in r[1:]]
        for r in fetchall(
            database,
            "SELECT m.broadcast_id, COUNT(*),"
            " SUM(CASE WHEN m.accepted_at IS NOT NULL THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN m.delivered_at IS NOT NULL THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN m.read_at IS NOT NULL THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN m.replied_at IS NOT NULL THEN 1 ELSE 0 END),"
            f" SUM(CASE WHEN m.state = '{RowState.FAILED}' THEN 1 ELSE 0 END),"
            f" SUM(CASE WHEN m.state = '{RowState.SKIPPED}' THEN 1 ELSE 0 END),"
            f" SUM(CASE WHEN m.state IN {sql_in(PENDING)} THEN 1 ELSE 0 END)"
            f" FROM outbound_message m WHERE m.broadcast_id {pred} GROUP BY m.broadcast_id",
            params,
        )
    }
    lines = []
    for broadcast_id, name, template, status, started_at in rows:
        total, sent, delivered, read, replied, failed, skipped, pending = funnels.get(broadcast_id, [0] * 8)
        moment = from_db_time(started_at)
        assert moment is not None
        lines.append(
            BroadcastLine(
                broadcast_id,
                name,
                template,
                status,
                moment,
                total,
                sent,
                delivered,
                read,
                replied,
                failed,
                skipped,
                pending,
            )
        )
    return lines, count - len(lines)


# -- statements ---------------------------------------------------------------------------


def _sends(database: peewee.Database, bounds: list[tuple[Any, Any]], span: tuple[Any, Any]) -> list[int]:
    columns: list[str] = []
    params: list[Any] = []
    accepted = "m.accepted_at >= ? AND m.accepted_at < ?"
    for a, b in bounds:
        for extra in ("", " AND m.delivered_at IS NOT NULL", " AND m.read_at IS NOT NULL"):
            columns.append(f"SUM(CASE WHEN {accepted}{extra} THEN 1 ELSE 0 END)")
            params += [a, b]
        columns.append(f"SUM(CASE WHEN {accepted} AND m.replied_at IS NOT NULL THEN 1 ELSE 0 END)")
        columns.append(
            f"SUM(CASE WHEN m.state = '{RowState.FAILED}'"
            " AND m.failed_at >= ? AND m.failed_at < ? THEN 1 ELSE 0 END)"
        )
        params += [a, b, a, b]
    return _row(
        database,
        f"SELECT {', '.join(columns)} FROM outbound_message m"
        " WHERE (m.accepted_at >= ? AND m.accepted_at < ?) OR (m.failed_at >= ? AND m.failed_at < ?)",
        [*params, *span, *span],
    )


def _grouped(
    database: peewee.Database,
    bounds: list[tuple[Any, Any]],
    column: str,
    sql: str,
    span: tuple[Any, Any],
    *,
    key_width: int,
) -> list[tuple[tuple[Any, ...], list[int]]]:
    """Rows of ``(group key, [count per window])``."""
    rows = fetchall(database, sql.format(sums=_sums(column, len(bounds))), [*_flat(bounds), *span])
    return [(tuple(r[:key_width]), [int(v or 0) for v in r[key_width:]]) for r in rows]


def _sums(column: str, n: int, *, also: str = "") -> str:
    condition = f"{also} AND " if also else ""
    one = f"SUM(CASE WHEN {condition}{column} >= ? AND {column} < ? THEN 1 ELSE 0 END)"
    return ", ".join([one] * n)


def _row(database: peewee.Database, sql: str, params: list[Any]) -> list[int]:
    return [int(v or 0) for v in fetchall(database, sql, params)[0]]


def _flat(bounds: list[tuple[Any, Any]]) -> list[Any]:
    return [v for pair in bounds for v in pair]


def _db(moment: datetime) -> datetime:
    return to_db_time(moment)
