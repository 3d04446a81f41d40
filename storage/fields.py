"""Column types shared by every model: UTC timestamps and JSON stored as text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import peewee


class UTCDateTimeField(peewee.DateTimeField):
    """Aware UTC datetimes in Python, naive UTC in the database (both engines)."""

    def db_value(self, value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return super().db_value(value)

    def python_value(self, value: Any) -> Any:
        value = super().python_value(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def to_db_time(value: datetime) -> datetime:
    """The naive-UTC form raw SQL binds, for hot paths that bypass the ORM."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def from_db_time(value: datetime | str | None) -> datetime | None:
    """Read a timestamp from a raw row (SQLite returns text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JSONTextField(peewee.TextField):
    """A JSON document stored as text: portable across SQLite and PostgreSQL."""

    def db_value(self, value: Any) -> Any:
        if value is None:
            return None
        return orjson.dumps(value).decode()

    def python_value(self, value: Any) -> Any:
        if value is None:
            return None
        return orjson.loads(value)
