"""Applying delivery statuses to the ledger: idempotent, order-independent, never lost.

A message's delivery record only moves forward. Each timestamp keeps the
earliest moment reported, ``read`` implies ``delivered``, and ``failed`` is
final; so any set of status events gives the same record whatever order,
and however many times, they arrive (``merge`` is commutative and
idempotent). A status for a wamid Herald has not recorded yet finds its row
through ``biz_opaque_callback_data`` (Herald's own message id); failing that
it is kept in ``pending_status`` and applied when the send is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import peewee

from engine.whatsapp.webhook import StatusError, StatusEvent
from storage import cap as cap_store
from storage import statuses as store
from storage.statuses import Delivery, Pending

FINAL = "failed"


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def merge(d: Delivery, event: StatusEvent) -> Delivery:
    """The record after ``event``. Commutative and idempotent over any set of events."""
    wamid = d.wamid or event.wamid
    accepted = _earliest(d.accepted_at, event.at)  # any status proves Meta accepted it
    delivered, read, failed_at = d.delivered_at, d.read_at, d.failed_at
    if event.status in ("delivered", "read"):
        delivered = _earliest(delivered, event.at)
    if event.status == "read":
        read = _earliest(read, event.at)
    state = d.state if d.state in ("failed", "skipped") else "sent"
    code, title, detail = d.error_code, d.error_title, d.error_detail
    if event.status == "failed":
        failed_at = _earliest(failed_at, event.at)
        state = FINAL
        first: StatusError | None = event.errors[0] if event.errors else None
        if first is not None and (code is None or first.code < code):
            # the smallest code wins, so the reason does not depend on arrival order
            code, title, detail = first.code, first.title, first.details
        elif first is None and code is None:
            title = title or "failed (no reason given)"
    return replace(
        d,
        state=state,
        wamid=wamid,
        accepted_at=accepted,
        delivered_at=delivered,
        read_at=read,
        failed_at=failed_at,
        error_code=code,
        error_title=title,
        error_detail=detail,
    )


@dataclass
class Applied:
    applied: int = 0
    pending: int = 0  # kept for later: the send is not recorded yet
    broadcasts: set[int] | None = None
    enrollments: set[int] | None = None
    opted_out: list[int] | None = None  # contacts Meta says stopped marketing (131050)


def apply_statuses(database: peewee.Database, events: Sequence[StatusEvent], now: datetime) -> Applied:
    """Apply ``events`` (call inside a transaction). Unknown messages are kept as pending."""
    result = Applied(broadcasts=set(), enrollments=set(), opted_out=[])
    if not events:
        return result
    rows = store.rows_for(
        database,
        wamids=[e.wamid for e in events],
        ids=[int(e.callback) for e in events if e.callback and e.callback.isdigit()],
    )
    by_wamid = {r.delivery.wamid: r for r in rows.values() if r.delivery.wamid}
    merged: dict[int, store.Row] = {}
    unknown: list[StatusEvent] = []
    for event in events:
        row = by_wamid.get(event.wamid)
        if row is None and event.callback and event.callback.isdigit():
            candidate = rows.get(int(event.callback))
            if candidate is not None and candidate.delivery.wamid in (None, event.wamid):
                row = candidate
        if row is None:
            unknown.append(event)
            continue
        row = merged.get(row.id, row)
        new = replace(row, delivery=merge(row.delivery, event))
        merged[row.id] = new
        by_wamid[event.wamid] = new
    changed = [r for r in merged.values() if r.delivery != rows[r.id].delivery]
    store.write(database, changed)
    store.keep_pending(database, [_pending(e) for e in unknown], now)
    released = [
        (r.contact_id, r.cap_claimed_at)
        for r in changed
        if r.delivery.state == FINAL and rows[r.id].delivery.state != FINAL and r.cap_claimed_at
    ]
    cap_store.release(database, released)
    result.applied = len(events) - len(unknown)
    result.pending = len(unknown)
    result.broadcasts = {r.broadcast_id for r in changed if r.broadcast_id}
    result.enrollments = {r.enrollment_id for r in changed if r.enrollment_id}
    result.opted_out = sorted({r.contact_id for r in changed if r.delivery.error_code == 131050})
    return result


def apply_pending(database: peewee.Database, wamids: Iterable[str]) -> int:
    """Apply statuses that arrived before their send was recorded. Returns how many."""
    events = [_event(p) for p in store.take_pending(database, list(wamids))]
    if not events:
        return 0
    apply_statuses(database, events, events[0].at)
    return len(events)


def _pending(event: StatusEvent) -> Pending:
    errors = [{"code": e.code, "title": e.title, "details": e.details} for e in event.errors]
    return Pending(event.wamid, event.callback, event.status, event.at, errors)


def _event(p: Pending) -> StatusEvent:
    return StatusEvent(
        wamid=p.wamid,
        status=p.status,  # type: ignore[arg-type]
        at=p.at,
        recipient="",
        callback=p.callback,
        errors=tuple(StatusError(**e) for e in p.errors),
    )
