"""Local date-times in named IANA zones: reading them safely and saying them back.

A schedule is stored as UTC plus the zone it was written in, and always shown
with both: ``Mon 1 Dec 09:00 Asia/Kolkata (03:30 UTC)``. A local time that
does not exist (the hour skipped when clocks go forward) is refused; one that
happens twice (clocks going back) takes the first occurrence, which the echo
makes visible.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.errors import Invalid


def zone(name: str, *, field: str = "timezone") -> ZoneInfo:
    """The IANA zone called ``name``. Raises Invalid for anything else."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(
            f"{name!r} is not an IANA time zone.",
            field=field,
            hint="Use a name like Asia/Kolkata, Europe/London or America/New_York.",
        ) from exc


def parse_local(text: str, *, field: str = "schedule") -> datetime:
    """A naive local date-time from ISO text (``2026-12-01T09:00`` or ``2026-12-01 09:00``)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise Invalid(
            f"{text!r} is not a date and time.",
            field=field,
            hint='Use "now", "draft", or a local time like "2026-12-01T09:00".',
        ) from exc
    if moment.tzinfo is not None:
        raise Invalid(
            f"{text!r} carries a UTC offset.",
            field=field,
            hint="Give the local time without an offset and name the zone in timezone.",
        )
    return moment


def to_utc(local: datetime, tz: str, *, field: str = "schedule") -> datetime:
    """The UTC moment of naive ``local`` in zone ``tz``. Raises Invalid if it does not exist."""
    where = zone(tz)
    first = local.replace(tzinfo=where, fold=0)
    back = first.astimezone(UTC).astimezone(where).replace(tzinfo=None)
    if back != local:
        raise Invalid(
            f"{local:%Y-%m-%d %H:%M} does not exist in {tz} (the clocks skip that hour).",
            field=field,
            hint="Pick a time an hour later or earlier.",
        )
    return first.astimezone(UTC)


def future_utc(local: datetime, tz: str, *, now: datetime, field: str = "schedule") -> datetime:
    """Like to_utc, and refuses a moment that is not after ``now``."""
    moment = to_utc(local, tz, field=field)
    if moment <= now:
        raise Invalid(
            f"{describe(moment, tz)} is in the past (it is now {describe(now, tz)}).",
            field=field,
            hint="Pick a later time, or send now.",
        )
    return moment


def describe(moment: datetime, tz: str) -> str:
    """``Mon 1 Dec 09:00 Asia/Kolkata (03:30 UTC)``; the year appears when it is not ``now``'s."""
    local = moment.astimezone(zone(tz))
    text = f"{local:%a} {local.day} {local:%b %H:%M} {tz}"
    if tz != "UTC":
        utc = moment.astimezone(UTC)
        text += f" ({utc:%H:%M} UTC)" if utc.date() == local.date() else f" ({utc:%a %H:%M} UTC)"
    return text


def lateness(scheduled: datetime, now: datetime) -> timedelta:
    return now - scheduled
