"""Audience queries: contacts having ANY of a set of tags, set-based, for 1,000,000 contacts.

Forms are chosen per job: ``EXISTS`` walks contacts in id order, so it is
right for "the first N"; the ``IN (subquery)`` form is right for counts and
for ``INSERT ... SELECT``. Each function is one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

import peewee

from storage.database import is_postgres
from storage.fields import to_db_time
from storage.sql import execute, fetchall, in_list
from storage.states import ContactStatus, RowState

ELIGIBLE = f"c.opted_in = ? AND c.status = '{ContactStatus.ACTIVE}'"


class Waterfall(NamedTuple):
    matched: int  # contacts with any of the tags
    opted_out: int  # of those: active but opted out
    deleted: int  # of those: deleted
    capped: int  # of the eligible: reached by MARKETING within the window


def _tagged(database: peewee.Database, tag_ids: Sequence[int]) -> tuple[str, list[object]]:
    pred, params = in_list(database, list(tag_ids))
    return f"c.id IN (SELECT ct.contact_id FROM contact_tag ct WHERE ct.tag_id {pred})", params


# On PostgreSQL the waterfall splits contact ids into ranges of this many (at most
# WATERFALL_RANGES of them), one aggregate per range, run side by side (a Parallel Append);
# see ``waterfall``.
WATERFALL_SPAN = 125_000
WATERFALL_RANGES = 64


def waterfall(
    database: peewee.Database,
    tag_ids: Sequence[int],
    cap_since: datetime | None,
    *,
    span: int = WATERFALL_SPAN,
) -> Waterfall:
    """Counts for the exclusion waterfall: one statement, and on PostgreSQL one more first for
    the bounds of the contact ids.

    ``cap_since``: contacts claimed for MARKETING after this moment count as
    capped; None when the template is not capped.

    On PostgreSQL the contact ids are cut into ranges of ``span``; each range
    is one aggregate over a merge of two index-only walks in id order (the
    ``contact_eligibility`` index, and the tag links' primary key), and the
    ranges are summed. Bounded ranges make the merge the planner's choice
    (over a hash join that spills at a million contacts) and let parallel
    workers take ranges of their own (526 → 231 ms at 1,000,000 contacts).
    """
    if not tag_ids:
        return Waterfall(0, 0, 0, 0)
    if is_postgres(database):
        return _waterfall_by_ranges(database, tag_ids, cap_since, span)
    where, params = _tagged(database, tag_ids)
    counts, count_params = _counts(cap_since)
    row = execute(
        database, f"SELECT {counts} FROM contact c WHERE {where}", [*count_params, *params]
    ).fetchone()
    return Waterfall(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0), int(row[3] or 0))


def _counts(cap_since: datetime | None) -> tuple[str, list[object]]:
    """The four counts' select list, over ``c``, and its parameters."""
    capped = "0"
    params: list[object] = [False]
    if cap_since is not None:
        capped = f"COUNT(*) FILTER (WHERE {ELIGIBLE} AND c.last_marketing_at > ?)"
        params += [True, to_db_time(cap_since)]
    return (
        f"COUNT(*), COUNT(*) FILTER (WHERE c.status = '{ContactStatus.ACTIVE}' AND c.opted_in = ?),"
        f" COUNT(*) FILTER (WHERE c.status = '{ContactStatus.DELETED}'), {capped}"
    ), params


def _waterfall_by_ranges(
    database: peewee.Database, tag_ids: Sequence[int], cap_since: datetime | None, span: int
) -> Waterfall:
    low, high = execute(database, "SELECT MIN(id), MAX(id) FROM contact").fetchone()
    if low is None:
        return Waterfall(0, 0, 0, 0)
    counts, count_params = _counts(cap_since)
    pred, tag_params = in_list(database, list(tag_ids))
    span = max(span, -(-(int(high) - int(low) + 1) // WATERFALL_RANGES))
    parts: list[str] = []
    params: list[object] = []
    for start in range(int(low), int(high) + 1, span):
        parts.append(
            f"SELECT {counts} FROM contact c WHERE c.id >= ? AND c.id < ? AND c.id IN"
            f" (SELECT ct.contact_id FROM contact_tag ct WHERE ct.tag_id {pred}"
            " AND ct.contact_id >= ? AND ct.contact_id < ?)"
        )
        params += [*count_params, start, start + span, *tag_params, start, start + span]
    union = " UNION ALL ".join(parts)
    row = execute(
        database, f"SELECT SUM(n), SUM(o), SUM(d), SUM(m) FROM ({union}) AS r (n, o, d, m)", params
    ).fetchone()
    return Waterfall(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0), int(row[3] or 0))


def reached(
    database: peewee.Database, tag_ids: Sequence[int], since: datetime, cap_since: datetime | None
) -> int:
    """Eligible contacts with any of the tags (not capped, when ``cap_since`` is given) that a
    template reached at or after ``since``: the messaging limit does not count them again.
    Read only when an audience does not fit the limit at once."""
    if not tag_ids:
        return 0
    where, params = _tagged(database, tag_ids)
    capped = ""
    cap_params: list[object] = []
    if cap_since is not None:
        capped = " AND (c.last_marketing_at IS NULL OR c.last_marketing_at <= ?)"
        cap_params = [to_db_time(cap_since)]
    row = execute(
        database,
        f"SELECT COUNT(*) FROM contact c WHERE {ELIGIBLE} AND c.last_reach_at >= ?{capped} AND {where}",
        [True, to_db_time(since), *cap_params, *params],
    ).fetchone()
    return int(row[0] or 0)


def first_eligible(database: peewee.Database, tag_ids: Sequence[int], limit: int) -> list[int]:
    """Ids of the first ``limit`` eligible contacts by id (sub-millisecond at 1M contacts)."""
    if not tag_ids:
        return []
    pred, params = in_list(database, list(tag_ids))
    rows = fetchall(
        database,
        f"SELECT c.id FROM contact c WHERE {ELIGIBLE} AND EXISTS"
        f" (SELECT 1 FROM contact_tag ct WHERE ct.contact_id = c.id AND ct.tag_id {pred})"
        " ORDER BY c.id LIMIT ?",
        [True, *params, limit],
    )
    return [r[0] for r in rows]


def build_ledger(
    database: peewee.Database,
    *,
    broadcast_id: int,
    template_id: int,
    tag_ids: Sequence[int],
    now: datetime,
) -> int:
    """One queued ledger row per eligible contact, in one ``INSERT ... SELECT``.

    Idempotent: the unique (broadcast, contact) key skips rows already there.
    Returns the number of rows the broadcast has in its ledger.
    """
    if tag_ids:
        where, params = _tagged(database, tag_ids)
        execute(
            database,
            "INSERT INTO outbound_message (broadcast_id, contact_id, template_id, state, created_at)"
            f" SELECT ?, c.id, ?, '{RowState.QUEUED}', ? FROM contact c WHERE {ELIGIBLE} AND {where}"
            " ORDER BY c.id"
            " ON CONFLICT (broadcast_id, contact_id) DO NOTHING",
            [broadcast_id, template_id, to_db_time(now), True, *params],
        )
    row = execute(
        database, "SELECT COUNT(*) FROM outbound_message WHERE broadcast_id = ?", [broadcast_id]
    ).fetchone()
    return int(row[0])
