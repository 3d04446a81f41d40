"""Time rules, in one place: IANA zones, local times and their DST policy, and schedules as values.

Every face reads a person's time its own way (the chat grammar reads "tomorrow
9am", the REST API a local ISO date-time) and hands the engine a ``Schedule``
value: now, draft, or at an aware UTC instant with the zone it was written in.
Nothing turns a time back into text for the engine to read again.

The policy for a local wall-clock time, for every face:

- a time the clocks skip (the hour lost when they go forward) is refused, suggesting
  the same time after the jump (``SkippedTime``);
- a time the clocks repeat (the hour that happens twice when they go back) is
  refused as ambiguous, suggesting the same time after the repeat (``RepeatedTime``);
- a schedule is stored as UTC plus its zone, and always shown with both:
  ``Mon 1 Dec 09:00 Asia/Kolkata (03:30 UTC)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.errors import Invalid

ZONE_HINT = "Use a name like Asia/Kolkata, Europe/London or America/New_York."


# --- zones --------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone(name: str, *, field: str = "timezone") -> ZoneInfo:
    """The IANA zone called ``name`` (``Asia/Kolkata``). Raises Invalid (``field``) for anything else."""
    try:
        return _zone(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(f"{name!r} is not an IANA time zone.", field=field, hint=ZONE_HINT) from exc


def is_zone(name: str) -> bool:
    """Whether ``name`` is an IANA zone this machine knows."""
    try:
        zone(name)
    except Invalid:
        return False
    return True


def require_aware(now: datetime) -> None:
    """Raises ValueError when ``now`` is naive: no rule guesses which zone "now" is in."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")


def local_now(now: datetime, tz: str) -> datetime:
    """``now`` on the wall clock of ``tz``. Raises Invalid for an unknown zone."""
    return now.astimezone(zone(tz))


# --- local times and DST --------------------------------------------------------------


class SkippedTime(Invalid):
    """A local time the clocks skip. ``jump`` is how far they go forward; ``instead`` is the
    same wall-clock time after the jump (naive, in ``timezone``).
    """

    def __init__(self, local: datetime, timezone: str, jump: timedelta, instead: datetime, field: str):
        super().__init__(
            f"{local:%Y-%m-%d %H:%M} does not exist in {timezone}: the clocks jump forward"
            f" {span(jump)} then.",
            field=field,
            hint=f"Try {instead:%Y-%m-%dT%H:%M}.",
        )
        self.local, self.timezone, self.jump, self.instead = local, timezone, jump, instead


class RepeatedTime(Invalid):
    """A local time the clocks repeat, so it names two instants. ``back`` is how far the clocks
    go back; ``instead`` is the same wall-clock time after the repeat (naive, or None when that
    is not a plain time either).
    """

    def __init__(self, local: datetime, timezone: str, back: timedelta, instead: datetime | None, field: str):
        super().__init__(
            f"{local:%Y-%m-%d %H:%M} happens twice in {timezone}: the clocks go back {span(back)} then.",
            field=field,
            hint=f"Try {instead:%Y-%m-%dT%H:%M}, after the repeated hour."
            if instead
            else "Pick a time outside the repeated hour.",
        )
        self.local, self.timezone, self.back, self.instead = local, timezone, back, instead


def localize(local: datetime, tz: str, *, field: str = "schedule") -> datetime:
    """The naive wall-clock time ``local`` in zone ``tz``, as an aware datetime in that zone.

    Raises SkippedTime or RepeatedTime (both Invalid, naming ``field``) for a time the
    clocks skip or repeat, and Invalid (field ``timezone``) for an unknown zone.
    """
    where = zone(tz)
    first = local.replace(tzinfo=where, fold=0)
    second = local.replace(tzinfo=where, fold=1)
    before, after = first.utcoffset(), second.utcoffset()
    if before is None or after is None or before == after:
        return first
    if after > before:  # fold=1 reads the offset from before the change: the clocks jumped forward
        instead = first.astimezone(UTC).astimezone(where).replace(tzinfo=None)
        raise SkippedTime(local, tz, after - before, instead, field)
    back = before - after
    instead = local + back
    try:
        localize(instead, tz, field=field)
    except Invalid:
        raise RepeatedTime(local, tz, back, None, field) from None
    raise RepeatedTime(local, tz, back, instead, field)


def span(delta: timedelta) -> str:
    """``timedelta(hours=1)`` → ``"1 hour"``, ``timedelta(minutes=30)`` → ``"30 minutes"``."""
    minutes = int(delta.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} minutes"


# --- schedules ------------------------------------------------------------------------------


class ScheduleKind(StrEnum):
    NOW = "now"  # start now (chat faces: preview now, start on confirmation)
    DRAFT = "draft"  # save, send later
    AT = "at"  # start at ``Schedule.at``


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a broadcast goes out: now, as a draft, or at an instant.

    ``at`` is set exactly when ``kind`` is AT: an aware datetime in UTC. ``timezone``
    is the IANA zone the time was written in and is shown in; None (allowed for
    now and draft only) means Herald's ``TIMEZONE``.
    """

    kind: ScheduleKind
    timezone: str | None = None
    at: datetime | None = None

    def __post_init__(self) -> None:
        if (self.kind is ScheduleKind.AT) != (self.at is not None):
            raise ValueError("Schedule.at is set exactly when kind is AT")
        if self.at is not None and (self.at.utcoffset() != timedelta(0) or self.timezone is None):
            raise ValueError("Schedule.at must be an aware UTC datetime with its zone")


NOW = Schedule(ScheduleKind.NOW)
DRAFT = Schedule(ScheduleKind.DRAFT)


def at_local(local: datetime, tz: str, *, field: str = "schedule") -> Schedule:
    """A schedule for the naive wall-clock time ``local`` in ``tz``, under the DST policy above.

    Raises SkippedTime, RepeatedTime or Invalid like ``localize``.
    """
    return Schedule(ScheduleKind.AT, tz, localize(local, tz, field=field).astimezone(UTC))


def read(text: str, tz: str, *, field: str = "schedule") -> Schedule:
    """The REST API's schedule: ``now``, ``draft`` or a local ISO date-time
    (``2026-12-01T09:00``) in ``tz``. Raises Invalid naming ``field`` (``timezone`` for a bad zone).
    """
    word = text.strip().lower()
    zone(tz)
    if word == ScheduleKind.NOW:
        return Schedule(ScheduleKind.NOW, tz)
    if word == ScheduleKind.DRAFT:
        return Schedule(ScheduleKind.DRAFT, tz)
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
    return at_local(moment, tz, field=field)


def require_future(schedule: Schedule, now: datetime, *, field: str = "schedule") -> None:
    """Raises Invalid when ``schedule`` is at a moment that is not after ``now``."""
    if schedule.at is None or schedule.at > now:
        return
    tz = schedule.timezone or "UTC"
    raise Invalid(
        f"{describe(schedule.at, tz)} is in the past (it is now {describe(now, tz)}).",
        field=field,
        hint="Pick a later time, or send now.",
    )


def describe(moment: datetime, tz: str) -> str:
    """``Mon 1 Dec 09:00 Asia/Kolkata (03:30 UTC)``: an instant on ``tz``'s clock and on UTC's."""
    local = moment.astimezone(zone(tz))
    text = f"{local:%a} {local.day} {local:%b %H:%M} {tz}"
    if tz != "UTC":
        utc = moment.astimezone(UTC)
        text += f" ({utc:%H:%M} UTC)" if utc.date() == local.date() else f" ({utc:%a %H:%M} UTC)"
    return text
