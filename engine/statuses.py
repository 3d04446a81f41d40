"""Applying delivery statuses to the ledger: idempotent, order-independent, never lost.

A message's delivery record only moves forward. Each timestamp keeps the
earliest moment reported, ``read`` implies ``delivered``, and ``failed`` is
final; so any set of status events gives the same record whatever order,
and however many times, they arrive (``merge`` is commutative and
idempotent). A status for a wamid Herald has not recorded yet finds its row
through ``biz_opaque_callback_data`` (Herald's own message id); failing that
it is kept in ``pending_status`` and applied when the send is recorded.

The merge with what is stored happens in the database, in the statement that
writes it (``storage.statuses.merge``): each applier sends only what its own
events say (``delta``), never a copy of a row it read earlier, so appliers
running at once on several connections, and the worker's outcome write, can
never put back a value another has just replaced.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import peewee

from engine.whatsapp.webhook import StatusError, StatusEvent
from storage import cap as cap_store
from storage import statuses as store
from storage.states import SETTLED, RowState
from storage.statuses import Delivery, Pending

FINAL = RowState.FAILED


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


BLANK = Delivery(
    state=RowState.SENDING, wamid=None, accepted_at=None, delivered_at=None, read_at=None, failed_at=None
)


def merge(d: Delivery, event: StatusEvent) -> Delivery:
    """The record after ``event``. Commutative and idempotent over any set of events.

    A row not settled yet carries, at most, the error of an earlier attempt or an
    unconfirmed send; the first status supersedes it (as the worker's own ``sent``
    write does), so the reason shown is always this message's.
    """
    wamid = d.wamid or event.wamid
    accepted = _earliest(d.accepted_at, event.at)  # any status proves Meta accepted it
    delivered, read, failed_at = d.delivered_at, d.read_at, d.failed_at
    if event.status in ("delivered", "read"):
        delivered = _earliest(delivered, event.at)
    if event.status == "read":
        read = _earliest(read, event.at)
    pricing = d.pricing or event.pricing  # sent once (with sent, and delivered or read)
    settled = d.state in SETTLED
    state = d.state if settled else RowState.SENT
    code, title, detail = (d.error_code, d.error_title, d.error_detail) if settled else (None, None, None)
    if event.status == "failed":
        failed_at = _earliest(failed_at, event.at)
        state = FINAL
        first: StatusError | None = event.errors[0] if event.errors else None
        if first is not None and (code is None or first.code < code):
            # the smallest code wins, so the reason does not depend on arrival order
            code, title, detail = first.code, first.title, first.details
        elif first is None and code is None:
            title = title or "failed (no reason given)"
    return Delivery(
        state=state,
        wamid=wamid,
        accepted_at=accepted,
        delivered_at=delivered,
        read_at=read,
        failed_at=failed_at,
        error_code=code,
        error_title=title,
        error_detail=detail,
        pricing=pricing,
    )


@dataclass
class Applied:
    applied: int = 0
    pending: int = 0  # kept for later: the send is not recorded yet
    broadcasts: set[int] | None = None
    enrollments: set[int] | None = None
    opted_out: list[int] | None = None  # contacts Meta says stopped marketing (131050)
    failed: dict[int, int] | None = None  # broadcast -> its messages failed by these statuses (but 131050)


def fold(d: Delivery, events: Iterable[StatusEvent]) -> Delivery:
    for event in events:
        d = merge(d, event)
    return d


def apply_statuses(database: peewee.Database, events: Sequence[StatusEvent], now: datetime) -> Applied:
    """Apply ``events`` (call inside a transaction). Unknown messages are kept as pending.

    The rows are read without a lock, only to find them and to skip events that
    add nothing; what is written is each row's ``delta`` (the record its events
    alone make), merged with the stored row by the update itself.
    """
    result = Applied(broadcasts=set(), enrollments=set(), opted_out=[], failed={})
    if not events:
        return result
    rows = store.rows_for(
        database,
        wamids=[e.wamid for e in events],
        ids=[int(e.callback) for e in events if e.callback and e.callback.isdigit()],
    )
    by_wamid = {r.delivery.wamid: r.id for r in rows.values() if r.delivery.wamid}
    mine: dict[int, list[StatusEvent]] = {}  # row id -> its events
    unknown: list[StatusEvent] = []
    for event in events:
        row_id = by_wamid.get(event.wamid)
        if row_id is None and event.callback and event.callback.isdigit():
            candidate = rows.get(int(event.callback))
            if candidate is not None and candidate.delivery.wamid in (None, event.wamid):
                row_id = candidate.id
                by_wamid[event.wamid] = row_id  # a second wamid for the same row is not this one
        if row_id is None:
            unknown.append(event)
            continue
        mine.setdefault(row_id, []).append(event)
    deltas = [
        (row_id, fold(BLANK, evs))
        for row_id, evs in sorted(mine.items())
        if fold(rows[row_id].delivery, evs) != rows[row_id].delivery  # else already recorded
    ]
    changed = store.merge(database, deltas)  # each row changed, by these events or by a writer before
    written = {r.id for r in changed}
    # a row whose wamid became another between the read and the write is not this message's
    unknown += [e for row_id, _ in deltas if row_id not in written for e in mine[row_id]]
    store.keep_pending(database, [_pending(e) for e in unknown], now)
    released = [
        (r.contact_id, r.cap_claimed_at)
        for r in changed
        if r.state == FINAL and rows[r.id].delivery.state != FINAL and r.cap_claimed_at
    ]
    cap_store.release(database, released)  # handing a claim back twice changes nothing
    result.applied = len(events) - len(unknown)
    result.pending = len(unknown)
    result.broadcasts = {r.broadcast_id for r in changed if r.broadcast_id}
    result.enrollments = {r.enrollment_id for r in changed if r.enrollment_id}
    result.opted_out = sorted({r.contact_id for r in changed if r.error_code == 131050})
    failed: dict[int, int] = {}
    for r in changed:
        newly_failed = r.state == FINAL and rows[r.id].delivery.state != FINAL
        if newly_failed and r.broadcast_id and r.error_code != 131050:
            failed[r.broadcast_id] = failed.get(r.broadcast_id, 0) + 1
    result.failed = failed
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
    return Pending(event.wamid, event.callback, event.status, event.at, errors, event.pricing)


def _event(p: Pending) -> StatusEvent:
    return StatusEvent(
        wamid=p.wamid,
        status=p.status,  # type: ignore[arg-type]
        at=p.at,
        recipient=None,
        callback=p.callback,
        errors=tuple(StatusError(**e) for e in p.errors),
        pricing=p.pricing,
    )
