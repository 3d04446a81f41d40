"""IANA timezones by name, and the injected ``now`` seen on a zone's wall clock."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.grammar import messages
from engine.errors import Invalid


@lru_cache(maxsize=128)
def zone(tz: str) -> ZoneInfo:
    """The zone named ``tz`` (``Asia/Kolkata``). Raises Invalid (field ``timezone``) if unknown."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(messages.unknown_timezone(tz), field="timezone") from exc


def require_aware(now: datetime) -> None:
    """Raises ValueError when ``now`` is naive: the parser never guesses what "now" means."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")


def local_now(now: datetime, tz: str) -> datetime:
    """``now`` on the wall clock of ``tz``. Raises Invalid for an unknown zone."""
    return now.astimezone(zone(tz))
