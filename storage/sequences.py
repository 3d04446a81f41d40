"""Set-based enrollment statements: enroll, claim due, load, move, wake, exit, count."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

import peewee

from storage.database import is_postgres
from storage.fields import from_db_time, to_db_time
from storage.sql import execute, fetchall, in_list, insert_rows, update_from
from storage.states import TERMINAL, UNSENT, ContactStatus, EnrollmentStatus, RowState, SequenceStatus, sql_in


def enroll(
    database: peewee.Database,
    *,
    sequence_id: int,
    version_id: int,
    first_step: str,
    contact_ids: Sequence[int],
    source: str,
    now: datetime,
) -> list[tuple[int, int]]:
    """Enroll the opted-in, active contacts among ``contact_ids`` not enrolled yet.

    One statement; the unique (sequence, contact) key makes a second
    enrollment impossible on any path. Returns (enrollment id, contact id).
    """
    if not contact_ids:
        return []
    pred, params = in_list(database, sorted(set(contact_ids)))
    ts = to_db_time(now)
    rows = fetchall(
        database,
        "INSERT INTO enrollment (sequence_id, version_id, contact_id, status, current_step,"
        " next_run_at, step_started_at, source, enrolled_at)"
        f" SELECT ?, ?, c.id, '{EnrollmentStatus.ACTIVE}', ?, ?, ?, ?, ? FROM contact c"
        f" WHERE c.id {pred} AND c.opted_in = ? AND c.status = '{ContactStatus.ACTIVE}'"
        " ORDER BY c.id"
        " ON CONFLICT (sequence_id, contact_id) DO NOTHING RETURNING id, contact_id",
        [sequence_id, version_id, first_step, ts, ts, source, ts, *params, True],
    )
    return [(r[0], r[1]) for r in rows]


def claim_due(database: peewee.Database, now: datetime, lease_until: datetime, limit: int) -> list[int]:
    """Take up to ``limit`` due enrollments of active sequences; they come back after ``lease_until`` if lost.

    PostgreSQL skips rows another scheduler is claiming instead of waiting, and
    takes the claimed ids as an array: with ``id IN (subquery)`` its planner
    hash-joins the subquery against a scan of the whole table (600 ms at a
    million enrollments instead of 20).
    """
    if is_postgres(database):
        where = "id = ANY(ARRAY(SELECT e.id"
        tail = " FOR UPDATE OF e SKIP LOCKED))"
    else:
        where, tail = "id IN (SELECT e.id", ")"
    rows = fetchall(
        database,
        f"UPDATE enrollment SET next_run_at = ?, claimed_at = ? WHERE {where}"
        " FROM enrollment e JOIN sequence s ON s.id = e.sequence_id"
        f" WHERE e.status = '{EnrollmentStatus.ACTIVE}' AND e.next_run_at <= ?"
        f" AND s.status = '{SequenceStatus.ACTIVE}'"
        f" ORDER BY e.next_run_at LIMIT ?{tail} RETURNING id",
        [to_db_time(lease_until), to_db_time(now), to_db_time(now), limit],
    )
    return sorted(r[0] for r in rows)


class EnrollmentRow(NamedTuple):
    id: int
    sequence_id: int
    sequence_status: str
    version_id: int
    definition: str  # JSON text
    contact_id: int
    status: str
    current_step: str | None
    step_started_at: datetime | None
    next_run_at: datetime | None  # as the claim left it; a wake-up since changes it


def load(database: peewee.Database, ids: Sequence[int]) -> list[EnrollmentRow]:
    if not ids:
        return []
    pred, params = in_list(database, list(ids))
    rows = fetchall(
        database,
        "SELECT e.id, e.sequence_id, s.status, e.version_id, v.definition, e.contact_id, e.status,"
        " e.current_step, e.step_started_at, e.next_run_at FROM enrollment e"
        " JOIN sequence s ON s.id = e.sequence_id JOIN sequence_version v ON v.id = e.version_id"
        f" WHERE e.id {pred} ORDER BY e.id",
        params,
    )
    return [
        EnrollmentRow(
            id=r[0],
            sequence_id=r[1],
            sequence_status=r[2],
            version_id=r[3],
            definition=r[4],
            contact_id=r[5],
            status=r[6],
            current_step=r[7],
            step_started_at=from_db_time(r[8]),
            next_run_at=from_db_time(r[9]),
        )
        for r in rows
    ]


class MessageRow(NamedTuple):
    enrollment_id: int
    step_id: str
    state: str
    delivered: bool
    read: bool
    replied: bool


def messages(database: peewee.Database, enrollment_ids: Sequence[int]) -> list[MessageRow]:
    """What happened to every message these enrollments sent."""
    if not enrollment_ids:
        return []
    pred, params = in_list(database, list(enrollment_ids))
    return [
        MessageRow(r[0], r[1], r[2], bool(r[3]), bool(r[4]), bool(r[5]))
        for r in fetchall(
            database,
            "SELECT enrollment_id, step_id, state, delivered_at IS NOT NULL, read_at IS NOT NULL,"
            f" replied_at IS NOT NULL FROM outbound_message WHERE enrollment_id {pred}",
            params,
        )
    ]


class Move(NamedTuple):
    id: int
    from_step: str  # applied only if the enrollment is still at this step
    step: str | None
    step_started_at: datetime | None
    next_run_at: datetime | None
    status: str  # active | completed
    seen_next_run_at: datetime | None = None  # the enrollment's next_run_at when it was loaded


# A wake-up (a status or reply the enrollment waits for) that lands while a job decides makes
# next_run_at earlier than the job saw it: the job's own timer then never pushes it back, so the
# enrollment runs again at once and sees what woke it, instead of at its timeout.
_NEXT_RUN = (
    "CASE WHEN {unchanged} THEN v.next_run_at WHEN v.next_run_at IS NULL THEN enrollment.next_run_at"
    " WHEN enrollment.next_run_at IS NULL OR v.next_run_at < enrollment.next_run_at THEN v.next_run_at"
    " ELSE enrollment.next_run_at END"
)
_MOVE = (
    ("id", "bigint"),
    ("step", "text"),
    ("started", "timestamp"),
    ("status", "text"),
    ("finished", "timestamp"),
    ("next_run_at", "timestamp"),
    ("seen", "timestamp"),
    ("expected", "text"),
)


def apply_moves(database: peewee.Database, moves: Sequence[Move], now: datetime) -> None:
    """Write each enrollment's new position; a move from a step it already left changes nothing.

    The job's timer is written as is unless the enrollment was woken since it was
    loaded; then the earlier of the two wins (``_NEXT_RUN``).
    """
    same = "IS NOT DISTINCT FROM" if is_postgres(database) else "IS"
    next_run = _NEXT_RUN.format(unchanged=f"enrollment.next_run_at {same} v.seen")
    update_from(
        database,
        "enrollment",
        _MOVE,
        [
            (
                m.id,
                m.step,
                _t(m.step_started_at),
                m.status,
                to_db_time(now) if m.status != "active" else None,
                _t(m.next_run_at),
                _t(m.seen_next_run_at),
                m.from_step,
            )
            for m in sorted(moves)
        ],
        sets="current_step = v.step, step_started_at = v.started, status = v.status,"
        f" finished_at = v.finished, next_run_at = {next_run}",
        where=f"enrollment.id = v.id AND enrollment.status = '{EnrollmentStatus.ACTIVE}'"
        " AND enrollment.current_step = v.expected",
    )


def _t(moment: datetime | None) -> datetime | None:
    return to_db_time(moment) if moment else None


def queue_messages(
    database: peewee.Database, rows: Sequence[tuple[int, str, int, int]], now: datetime
) -> None:
    """Ledger rows for message steps: (enrollment id, step id, contact id, template id).

    The unique (enrollment, step) key makes each step's message exist once,
    however many times the step runs.
    """
    ts = to_db_time(now)
    insert_rows(
        database,
        "outbound_message",
        ("enrollment_id", "step_id", "contact_id", "template_id", "state", "created_at"),
        [(e, s, c, t, "queued", ts) for e, s, c, t in rows],
        conflict="ON CONFLICT (enrollment_id, step_id) DO NOTHING",
    )


def wake(database: peewee.Database, ids: Sequence[int], now: datetime) -> int:
    """Make these active enrollments due now (something they wait for happened)."""
    if not ids:
        return 0
    pred, params = in_list(database, sorted(set(ids)))
    cursor = execute(
        database,
        f"UPDATE enrollment SET next_run_at = ? WHERE id {pred} AND status = '{EnrollmentStatus.ACTIVE}'"
        " AND (next_run_at IS NULL OR next_run_at > ?)",
        [to_db_time(now), *params, to_db_time(now)],
    )
    return int(cursor.rowcount or 0)


def settled_waiting(database: peewee.Database, limit: int) -> list[int]:
    """Enrollments waiting on a message step whose message has settled (a missed wake-up)."""
    return [
        r[0]
        for r in fetchall(
            database,
            "SELECT e.id FROM enrollment e JOIN outbound_message m"
            " ON m.enrollment_id = e.id AND m.step_id = e.current_step"
            f" WHERE e.status = '{EnrollmentStatus.ACTIVE}' AND e.next_run_at IS NULL"
            f" AND m.state IN {sql_in(TERMINAL)} LIMIT ?",
            [limit],
        )
    ]


def exit_contacts(database: peewee.Database, contact_ids: Sequence[int], reason: str, now: datetime) -> int:
    """End every active enrollment of these contacts, with the reason."""
    if not contact_ids:
        return 0
    pred, params = in_list(database, sorted(set(contact_ids)))
    rows = fetchall(
        database,
        f"UPDATE enrollment SET status = '{EnrollmentStatus.EXITED}', exit_reason = ?, finished_at = ?,"
        f" next_run_at = NULL WHERE contact_id {pred} AND status = '{EnrollmentStatus.ACTIVE}' RETURNING id",
        [reason, to_db_time(now), *params],
    )
    _skip_waiting([r[0] for r in rows], database, reason)
    return len(rows)


def _skip_waiting(enrollment_ids: Sequence[int], database: peewee.Database, reason: str) -> None:
    """Messages an ended enrollment had queued will not go: they end skipped, with the reason."""
    if not enrollment_ids:
        return
    pred, params = in_list(database, list(enrollment_ids))
    execute(
        database,
        f"UPDATE outbound_message SET state = '{RowState.SKIPPED}', skip_reason = ?, batch = NULL"
        f" WHERE enrollment_id {pred} AND state IN {sql_in(UNSENT)}",
        [reason, *params],
    )


def exit_sequence(database: peewee.Database, sequence_id: int, reason: str, now: datetime) -> int:
    rows = fetchall(
        database,
        f"UPDATE enrollment SET status = '{EnrollmentStatus.EXITED}', exit_reason = ?, finished_at = ?,"
        f" next_run_at = NULL WHERE sequence_id = ? AND status = '{EnrollmentStatus.ACTIVE}' RETURNING id",
        [reason, to_db_time(now), sequence_id],
    )
    _skip_waiting([r[0] for r in rows], database, reason)
    return len(rows)


def enrollment_counts(database: peewee.Database, sequence_id: int) -> list[tuple[int, str, str | None, int]]:
    """(version, status, exit reason, count) for a sequence."""
    return [
        (int(v), status, reason, int(n))
        for v, status, reason, n in fetchall(
            database,
            "SELECT v.version, e.status, e.exit_reason, COUNT(*) FROM enrollment e"
            " JOIN sequence_version v ON v.id = e.version_id WHERE e.sequence_id = ?"
            " GROUP BY v.version, e.status, e.exit_reason",
            [sequence_id],
        )
    ]


def step_counts(
    database: peewee.Database, sequence_id: int
) -> list[tuple[int, str, int, int, int, int, int, int]]:
    """Per version and message step: (version, step, total, sent, delivered, read, failed, replied)."""
    return [
        (int(r[0]), r[1], *(int(x or 0) for x in r[2:]))
        for r in fetchall(
            database,
            "SELECT v.version, m.step_id, COUNT(*),"
            " SUM(CASE WHEN m.accepted_at IS NOT NULL THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN m.delivered_at IS NOT NULL THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN m.read_at IS NOT NULL THEN 1 ELSE 0 END),"
            f" SUM(CASE WHEN m.state = '{RowState.FAILED}' THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN m.replied_at IS NOT NULL THEN 1 ELSE 0 END)"
            " FROM outbound_message m JOIN enrollment e ON e.id = m.enrollment_id"
            " JOIN sequence_version v ON v.id = e.version_id"
            " WHERE e.sequence_id = ? GROUP BY v.version, m.step_id ORDER BY v.version, m.step_id",
            [sequence_id],
        )
    ]
