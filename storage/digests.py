"""Claims on the daily digest, so that any number of schedulers post it exactly once a day.

A scheduler claims ``(day, channel)`` with ``INSERT … ON CONFLICT DO NOTHING``; only
the one whose row went in posts. A claim that was never marked posted (the
poster died, or Slack refused) can be taken over once it is older than the
lease, or at once after ``release``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import peewee

from storage.fields import to_db_time
from storage.sql import execute, fetchall

_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)


def claim(database: peewee.Database, day: str, channel: str, now: datetime, lease: timedelta) -> bool:
    """True when this caller now owns posting the digest of ``day`` (a local ISO date)."""
    with database.atomic():
        inserted = fetchall(
            database,
            "INSERT INTO digest (day, channel, claimed_at) VALUES (?, ?, ?)"
            " ON CONFLICT (day, channel) DO NOTHING RETURNING day",
            [day, channel, to_db_time(now)],
        )
        if inserted:
            return True
        taken = execute(
            database,
            "UPDATE digest SET claimed_at = ? WHERE day = ? AND channel = ? AND posted_at IS NULL"
            " AND claimed_at < ?",
            [to_db_time(now), day, channel, to_db_time(now - lease)],
        )
        return bool(taken.rowcount)


def posted(database: peewee.Database, day: str, channel: str, now: datetime) -> None:
    with database.atomic():
        execute(
            database,
            "UPDATE digest SET posted_at = ? WHERE day = ? AND channel = ?",
            [to_db_time(now), day, channel],
        )


def release(database: peewee.Database, day: str, channel: str) -> None:
    """Give up a claim that was not posted, so the next pass tries again."""
    with database.atomic():
        execute(
            database,
            "UPDATE digest SET claimed_at = ? WHERE day = ? AND channel = ? AND posted_at IS NULL",
            [to_db_time(_LONG_AGO), day, channel],
        )


def is_posted(database: peewee.Database, day: str, channel: str) -> bool:
    rows = fetchall(
        database,
        "SELECT 1 FROM digest WHERE day = ? AND channel = ? AND posted_at IS NOT NULL",
        [day, channel],
    )
    return bool(rows)
