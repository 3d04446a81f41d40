"""The send ledger's moves, each one set-based statement per batch.

A row's life:  queued ─dispatch→ dispatched ─claim→ sending ─→ sent | failed | skipped
                  ↑                    │                 │
                  └──── lease expired ─┘                 ├─ requeued (retry), or left in
                  ↑                                      │  ``sending`` when Meta may have
                  │                                      │  accepted it (reconciliation)
                  └──── released (its time, or room) ── held (by rule: ``held_reason``)

Every move is conditional on the state (and on the batch token for a claim),
so a redelivered or stale queue message moves nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import orjson
import peewee

from storage.fields import from_db_time, to_db_time
from storage.sql import execute, fetchall, in_list, update_rows
from storage.states import (
    BroadcastStatus,
    EnrollmentStatus,
    HeldReason,
    RowState,
    SequenceStatus,
    TemplateStatus,
    sql_in,
)


class Claimed(NamedTuple):
    id: int
    broadcast_id: int | None
    enrollment_id: int | None
    step_id: str | None
    contact_id: int
    template_id: int
    retries_131049: int  # 24-hour waits for the per-user marketing limit so far
    attempts: int
    cap_claimed_at: datetime | None
    held_reason: str | None = None  # a rule held it before and has let it go


class Recipient(NamedTuple):
    id: int
    phone: str | None  # None for a username user known by business-scoped user id only
    name: str
    attributes: dict[str, Any]
    opted_in: bool
    status: str
    last_marketing_at: datetime | None  # the contact's last frequency-cap claim
    wa_user_id: str | None = None  # a username user's business-scoped user id


def _still(state: RowState) -> str:
    """The guard of a statement on rows named by id: only rows still in ``state`` move.

    Written ``state || ''`` so that PostgreSQL finds the rows by primary key and checks
    the state on each, never the other way round: the state index's statistics lag a
    ledger whose rows change state by the hundred thousand, and planned from a moment
    when no row was ``dispatched`` a claim of 100 ids read every dispatched row (295,000
    in a million-row broadcast) through that index.
    """
    return f"outbound_message.state || '' = '{state}'"


def due_ids(database: peewee.Database, now: datetime, limit: int) -> list[int]:
    """Queued rows ready to go, oldest first: of sending broadcasts or of active enrollments
    in active sequences, whose template is approved (others wait, queued, until it is)."""
    return [
        r[0]
        for r in fetchall(
            database,
            "SELECT m.id FROM outbound_message m"
            f" JOIN template t ON t.id = m.template_id AND t.status = '{TemplateStatus.APPROVED}'"
            " LEFT JOIN broadcast b ON b.id = m.broadcast_id"
            " LEFT JOIN enrollment e ON e.id = m.enrollment_id"
            " LEFT JOIN sequence s ON s.id = e.sequence_id"
            f" WHERE m.state = '{RowState.QUEUED}' AND (m.next_attempt_at IS NULL OR m.next_attempt_at <= ?)"
            f" AND (b.status = '{BroadcastStatus.SENDING}'"
            f" OR (e.status = '{EnrollmentStatus.ACTIVE}' AND s.status = '{SequenceStatus.ACTIVE}'))"
            " ORDER BY m.id LIMIT ?",
            [to_db_time(now), limit],
        )
    ]


def in_flight(database: peewee.Database) -> int:
    row = execute(
        database,
        "SELECT COUNT(*) FROM outbound_message"
        f" WHERE state IN {sql_in((RowState.DISPATCHED, RowState.SENDING))}",
    ).fetchone()
    return int(row[0])


def mark_dispatched(database: peewee.Database, ids: Sequence[int], token: str, now: datetime) -> list[int]:
    """Hand queued rows to a batch; returns the ids actually moved (a racing tick gets none)."""
    pred, params = in_list(database, list(ids))
    rows = fetchall(
        database,
        f"UPDATE outbound_message SET state = '{RowState.DISPATCHED}', batch = ?, dispatched_at = ?"
        f" WHERE id {pred} AND {_still(RowState.QUEUED)} RETURNING id",
        [token, to_db_time(now), *params],
    )
    return sorted(r[0] for r in rows)


def claim(database: peewee.Database, token: str, ids: Sequence[int], now: datetime) -> list[Claimed]:
    """Take this batch's rows for sending. Only rows still dispatched under ``token`` move."""
    pred, params = in_list(database, list(ids))
    rows = fetchall(
        database,
        f"UPDATE outbound_message SET state = '{RowState.SENDING}', claimed_at = ?, attempts = attempts + 1"
        f" WHERE id {pred} AND {_still(RowState.DISPATCHED)} AND batch = ?"
        " RETURNING id, broadcast_id, enrollment_id, step_id, contact_id, template_id,"
        " retries_131049, attempts, cap_claimed_at, held_reason",
        [to_db_time(now), *params, token],
    )
    claimed = [
        Claimed(
            id=r[0],
            broadcast_id=r[1],
            enrollment_id=r[2],
            step_id=r[3],
            contact_id=r[4],
            template_id=r[5],
            retries_131049=r[6],
            attempts=r[7],
            cap_claimed_at=from_db_time(r[8]),
            held_reason=r[9],
        )
        for r in rows
    ]
    return sorted(claimed, key=lambda c: c.id)


class StepInfo(NamedTuple):
    enrollment_status: str
    exit_reason: str | None
    sequence_status: str
    definition: dict[str, Any]


def step_info(database: peewee.Database, enrollment_ids: Sequence[int]) -> dict[int, StepInfo]:
    """For sequence rows: whether the enrollment and its sequence still run, and the definition."""
    if not enrollment_ids:
        return {}
    pred, params = in_list(database, sorted(set(enrollment_ids)))
    return {
        r[0]: StepInfo(r[1], r[2], r[3], orjson.loads(r[4]))
        for r in fetchall(
            database,
            "SELECT e.id, e.status, e.exit_reason, s.status, v.definition FROM enrollment e"
            " JOIN sequence s ON s.id = e.sequence_id JOIN sequence_version v ON v.id = e.version_id"
            f" WHERE e.id {pred}",
            params,
        )
    }


def recipients(database: peewee.Database, contact_ids: Sequence[int]) -> dict[int, Recipient]:
    if not contact_ids:
        return {}
    pred, params = in_list(database, sorted(set(contact_ids)))
    return {
        r[0]: Recipient(r[0], r[1], r[2], orjson.loads(r[3]), bool(r[4]), r[5], from_db_time(r[6]), r[7])
        for r in fetchall(
            database,
            "SELECT id, phone, name, attributes, opted_in, status, last_marketing_at, wa_user_id"
            f" FROM contact WHERE id {pred}",
            params,
        )
    }


class Sent(NamedTuple):
    id: int
    wamid: str
    accepted_at: datetime


class Failed(NamedTuple):
    id: int
    code: int | None
    title: str
    detail: str
    at: datetime


class Skipped(NamedTuple):
    id: int
    reason: str


class Requeued(NamedTuple):
    id: int
    next_at: datetime | None  # None: as soon as the row is dispatched again
    code: int | None
    title: str | None


class Unconfirmed(NamedTuple):
    """Meta may have accepted it; the row stays ``sending`` until reconciled."""

    id: int
    what: str


class Held(NamedTuple):
    """The row waits by rule: ``held`` with ``reason`` until ``until`` (an estimate for the
    messaging limit, which lets rows go as room comes back)."""

    id: int
    reason: HeldReason
    until: datetime | None
    code: int | None = None  # the answer that made it wait (131049), when it was tried
    title: str | None = None

    @property
    def tried(self) -> bool:
        return self.code is not None


class CapClaim(NamedTuple):
    id: int  # the ledger row that holds its contact's frequency-cap claim
    claimed_at: datetime


@dataclass
class Outcomes:
    """What happened to each claimed row, gathered for one write."""

    sent: list[Sent] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    requeued: list[Requeued] = field(default_factory=list)
    ambiguous: list[Unconfirmed] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)
    returned: list[int] = field(default_factory=list)  # back to the queue untried (a pause, say)
    cap_claims: list[CapClaim] = field(default_factory=list)
    reach_claims: list[tuple[int, datetime]] = field(default_factory=list)  # (contact, claimed at)

    def not_sent(self) -> set[int]:
        """Rows that will not be sent by this batch: failed, skipped, held or back in the queue."""
        return (
            {r[0] for r in self.failed}
            | {r[0] for r in self.requeued}
            | {r[0] for r in self.skipped}
            | {r[0] for r in self.held}
            | set(self.returned)
        )


def set_cap_claims(database: peewee.Database, claims: Sequence[CapClaim]) -> None:
    update_rows(
        database,
        "outbound_message",
        "id",
        ("cap_claimed_at",),
        [(i, to_db_time(at)) for i, at in claims],
        casts=("bigint", "timestamp"),
    )


_CLAIMED = _still(RowState.SENDING)


def record(database: peewee.Database, outcomes: Outcomes) -> None:
    """Write every outcome of a batch (call inside one transaction).

    Each write applies only to rows still ``sending``: a status webhook that
    raced ahead of this write (a ``failed`` arriving within milliseconds) has
    already moved the row forward, and is not undone. Rows go in id order as
    arrays (one short statement each, rows found by primary key), the order
    status appliers lock them in too.
    """
    update_rows(
        database,
        "outbound_message",
        "id",
        ("wamid", "accepted_at"),
        sorted((i, w, to_db_time(at)) for i, w, at in outcomes.sent),
        casts=("bigint", "text", "timestamp"),
        literals={
            "state": f"'{RowState.SENT}'",
            "batch": "NULL",
            "error_code": "NULL",
            "error_title": "NULL",
            "error_detail": "NULL",
            "held_reason": "NULL",
        },
        where=_CLAIMED,
        arrays=True,
    )
    update_rows(
        database,
        "outbound_message",
        "id",
        ("error_code", "error_title", "error_detail", "failed_at"),
        sorted((i, code, title, detail, to_db_time(at)) for i, code, title, detail, at in outcomes.failed),
        casts=("bigint", "integer", "text", "text", "timestamp"),
        literals={"state": f"'{RowState.FAILED}'", "batch": "NULL", "held_reason": "NULL"},
        where=_CLAIMED,
        arrays=True,
    )
    update_rows(
        database,
        "outbound_message",
        "id",
        ("skip_reason",),
        sorted(outcomes.skipped),
        casts=("bigint", "text"),
        literals={"state": f"'{RowState.SKIPPED}'", "batch": "NULL", "held_reason": "NULL"},
        where=_CLAIMED,
        arrays=True,
    )
    update_rows(
        database,
        "outbound_message",
        "id",
        ("next_attempt_at", "error_code", "error_title"),
        sorted((i, to_db_time(at) if at else None, code, title) for i, at, code, title in outcomes.requeued),
        casts=("bigint", "timestamp", "integer", "text"),
        literals={"state": f"'{RowState.QUEUED}'", "batch": "NULL", "cap_claimed_at": "NULL"},
        where=_CLAIMED,
        arrays=True,
    )
    update_rows(
        database,
        "outbound_message",
        "id",
        ("error_title",),
        sorted((i, f"unconfirmed: {what}") for i, what in outcomes.ambiguous),
        casts=("bigint", "text"),
        where=_CLAIMED,
        arrays=True,
    )
    _hold(database, [h for h in outcomes.held if not h.tried], tried=False)
    _hold(database, [h for h in outcomes.held if h.tried], tried=True)
    release_to_queue(database, sorted(outcomes.returned), undo_attempt=True)


def _hold(database: peewee.Database, held: Sequence[Held], *, tried: bool) -> None:
    """Rows that wait by rule. One the rule stopped before it was sent gets its attempt back;
    one that was tried (131049) keeps the answer and counts the wait."""
    literals = {"state": f"'{RowState.HELD}'", "batch": "NULL", "cap_claimed_at": "NULL"}
    if tried:
        literals["retries_131049"] = "retries_131049 + 1"
        columns: tuple[str, ...] = ("held_reason", "next_attempt_at", "error_code", "error_title")
        casts: tuple[str, ...] = ("bigint", "text", "timestamp", "integer", "text")
        rows: list[tuple[Any, ...]] = [(h.id, str(h.reason), _at(h.until), h.code, h.title) for h in held]
    else:
        literals["attempts"] = "attempts - 1"
        columns, casts = ("held_reason", "next_attempt_at"), ("bigint", "text", "timestamp")
        rows = [(h.id, str(h.reason), _at(h.until)) for h in held]
    update_rows(
        database,
        "outbound_message",
        "id",
        columns,
        sorted(rows),
        casts=casts,
        literals=literals,
        where=_CLAIMED,
        arrays=True,
    )


def _at(moment: datetime | None) -> datetime | None:
    return to_db_time(moment) if moment else None


def release_to_queue(database: peewee.Database, ids: Sequence[int], *, undo_attempt: bool) -> None:
    """Put claimed rows back untouched (their broadcast was paused while they waited)."""
    if not ids:
        return
    pred, params = in_list(database, list(ids))
    attempts = "attempts - 1" if undo_attempt else "attempts"
    execute(
        database,
        f"UPDATE outbound_message SET state = '{RowState.QUEUED}', batch = NULL, attempts = {attempts},"
        f" cap_claimed_at = NULL WHERE id {pred} AND {_still(RowState.SENDING)}",
        params,
    )


def skip_queued(database: peewee.Database, ids: Sequence[int], reason: str) -> None:
    """End queued rows as skipped (their broadcast was cancelled)."""
    if not ids:
        return
    pred, params = in_list(database, list(ids))
    execute(
        database,
        f"UPDATE outbound_message SET state = '{RowState.SKIPPED}', skip_reason = ?, batch = NULL"
        f" WHERE id {pred} AND {_still(RowState.QUEUED)}",
        [reason, *params],
    )


def requeue_stale_dispatches(database: peewee.Database, before: datetime) -> int:
    """Dispatched rows whose queue message never came (a lost message, a dead worker)."""
    cursor = execute(
        database,
        f"UPDATE outbound_message SET state = '{RowState.QUEUED}', batch = NULL"
        f" WHERE state = '{RowState.DISPATCHED}' AND dispatched_at < ?",
        [to_db_time(before)],
    )
    return int(cursor.rowcount or 0)


def requeue_unconfirmed(
    database: peewee.Database, before: datetime
) -> tuple[int, list[tuple[int, datetime]]]:
    """Rows left ``sending`` (a crash, a timeout) with no status echo since ``before``.

    Their request may never have reached Meta, and no webhook carrying their id
    arrived within the reconciliation wait: they go back to the queue to be
    sent again. Returns how many rows moved, and the (contact id, claim moment)
    of the frequency-cap claims they held, for the caller to hand back.
    """
    rows = fetchall(
        database,
        "SELECT id, contact_id, cap_claimed_at FROM outbound_message"
        f" WHERE state = '{RowState.SENDING}' AND accepted_at IS NULL AND wamid IS NULL AND claimed_at < ?",
        [to_db_time(before)],
    )
    if not rows:
        return 0, []
    pred, params = in_list(database, [r[0] for r in rows])
    moved = {
        r[0]
        for r in fetchall(
            database,
            f"UPDATE outbound_message SET state = '{RowState.QUEUED}', batch = NULL, next_attempt_at = NULL,"
            f" cap_claimed_at = NULL WHERE id {pred} AND {_still(RowState.SENDING)} AND wamid IS NULL"
            " RETURNING id",
            params,
        )
    }
    claims = [(r[1], at) for r in rows if r[0] in moved and (at := from_db_time(r[2])) is not None]
    return len(moved), claims


def pending_broadcasts(database: peewee.Database) -> list[int]:
    """Sending broadcasts; the tick checks each for completion."""
    sql = f"SELECT id FROM broadcast WHERE status = '{BroadcastStatus.SENDING}'"
    return [r[0] for r in fetchall(database, sql)]


def broadcast_statuses(database: peewee.Database, ids: Sequence[int]) -> dict[int, str]:
    """The status of each of these broadcasts, by id."""
    if not ids:
        return {}
    pred, params = in_list(database, sorted(set(ids)))
    return dict(fetchall(database, f"SELECT id, status FROM broadcast WHERE id {pred}", params))


def gate(
    database: peewee.Database, broadcast_ids: Sequence[int], template_ids: Sequence[int]
) -> tuple[dict[int, str], dict[int, str]]:
    """The status of each of these broadcasts and templates, in one round trip: what a batch
    reads before each part it sends (``engine.batch.still_goes``)."""
    b_pred, b_params = in_list(database, sorted(set(broadcast_ids)) or [0])
    t_pred, t_params = in_list(database, sorted(set(template_ids)) or [0])
    rows = fetchall(
        database,
        f"SELECT 'b', id, status FROM broadcast WHERE id {b_pred}"
        f" UNION ALL SELECT 't', id, status FROM template WHERE id {t_pred}",
        [*b_params, *t_params],
    )
    broadcasts = {r[1]: r[2] for r in rows if r[0] == "b"}
    templates = {r[1]: r[2] for r in rows if r[0] == "t"}
    return broadcasts, templates
