"""Named periods (``today``, ``yesterday``, ``7d``, a past weekday) as UTC windows.

Day boundaries are local midnights in the asker's zone, so "today" in
Asia/Kolkata starts at 18:30 UTC the evening before. A day that starts with a
DST change is as long as it really is (23 or 25 hours).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from bot.grammar.commands import Window
from bot.grammar.dates import WEEKDAYS
from engine.schedule import local_now, zone

PERIODS = ("today", "yesterday", "7d")
PERIOD_ALIASES = {
    "today": "today",
    "yesterday": "yesterday",
    "7d": "7d",
    "7days": "7d",
    "week": "7d",
    "7-days": "7d",
    "last7d": "7d",
    "last7days": "7d",
}


def period(label: str, *, now: datetime, tz: str) -> Window:
    """The window ``label`` (one of ``PERIODS``) names at ``now``, read in ``tz``.

    ``today`` and ``7d`` end at the next local midnight; ``7d`` is the seven local
    days ending today. Raises KeyError for a label outside ``PERIODS`` and Invalid
    for an unknown zone.
    """
    today = local_now(now, tz).date()
    if label == "today":
        return days(label, today, today, tz)
    if label == "yesterday":
        yesterday = today - timedelta(days=1)
        return days(label, yesterday, yesterday, tz)
    if label == "7d":
        return days(label, today - timedelta(days=6), today, tz)
    raise KeyError(label)


def past_weekday(name: str, *, now: datetime, tz: str) -> Window:
    """The most recent local day called ``name`` (``mon``, ``friday``), today included."""
    today = local_now(now, tz).date()
    back = (today.weekday() - WEEKDAYS[name]) % 7
    day = today - timedelta(days=back)
    return days(day.isoformat(), day, day, tz)


def days(label: str, first: date, last: date, tz: str) -> Window:
    """The window from local midnight starting ``first`` to local midnight ending ``last``."""
    zone_info = zone(tz)
    start = datetime.combine(first, time(), tzinfo=zone_info).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=zone_info).astimezone(UTC)
    return Window(label=label, start=start, end=end, timezone=tz)
