"""What Meta last said about the WhatsApp account, one value per key, newest report wins.

Keys: ``messaging_limit`` (unique users a rolling 24 h, null for unlimited),
``number_quality`` (the business number's last quality event), ``account`` (the last
account_update event). ``event_at`` is when Meta reported it: a report applied late
never replaces a newer one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

import orjson
import peewee

from storage.fields import from_db_time, to_db_time
from storage.sql import fetchall

MESSAGING_LIMIT = "messaging_limit"
NUMBER_QUALITY = "number_quality"
ACCOUNT = "account"


class Reported(NamedTuple):
    value: Any
    event_at: datetime | None
    updated_at: datetime


def put(database: peewee.Database, key: str, value: Any, event_at: datetime | None, now: datetime) -> bool:
    """Keep ``value`` under ``key`` unless a newer report is stored. Returns whether it changed."""
    rows = fetchall(
        database,
        "INSERT INTO account_state (key, value, event_at, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value, event_at = excluded.event_at,"
        " updated_at = excluded.updated_at"
        " WHERE (account_state.event_at IS NULL OR excluded.event_at IS NULL"
        " OR account_state.event_at <= excluded.event_at) AND account_state.value <> excluded.value"
        " RETURNING key",
        [key, orjson.dumps(value).decode(), to_db_time(event_at) if event_at else None, to_db_time(now)],
    )
    return bool(rows)


def get(database: peewee.Database, key: str) -> Reported | None:
    rows = fetchall(database, "SELECT value, event_at, updated_at FROM account_state WHERE key = ?", [key])
    if not rows:
        return None
    value, event_at, updated_at = rows[0]
    stamped = from_db_time(updated_at)
    assert stamped is not None
    return Reported(orjson.loads(value), from_db_time(event_at), stamped)
