"""Atomic frequency-cap claims and releases, one statement per batch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import peewee

from storage.fields import to_db_time
from storage.sql import execute, fetchall, in_list


def claim(database: peewee.Database, contact_ids: Sequence[int], now: datetime, since: datetime) -> set[int]:
    """Claim the cap for the contacts not claimed after ``since``; returns those claimed.

    The previous claim is kept in ``prev_marketing_at`` so a permanent failure
    can hand the cap back (``release``).
    """
    if not contact_ids:
        return set()
    pred, params = in_list(database, list(contact_ids))
    rows = fetchall(
        database,
        "UPDATE contact SET prev_marketing_at = last_marketing_at, last_marketing_at = ?"
        f" WHERE id {pred} AND (last_marketing_at IS NULL OR last_marketing_at <= ?)"
        " RETURNING id",
        [to_db_time(now), *params, to_db_time(since)],
    )
    return {r[0] for r in rows}


def release(database: peewee.Database, claims: Sequence[tuple[int, datetime]]) -> None:
    """Hand back claims made at the given moments (only if nothing claimed since)."""
    for contact_id, claimed_at in claims:
        execute(
            database,
            "UPDATE contact SET last_marketing_at = prev_marketing_at WHERE id = ? AND last_marketing_at = ?",
            [contact_id, to_db_time(claimed_at)],
        )
