"""Reading a schedule time ("9am", "tomorrow 18:30", "mon 9am", "in 2 hours") in a person's zone.

The grammar, after lower-casing and tidying (``9 am`` → ``9am``, ``a.m.`` → ``am``)::

    time     := relative | [day] [at] clock | [at] clock [on] day
    relative := in N unit | N unit from now          unit: minutes, hours, days, weeks
    clock    := H[:MM][am|pm] | H.MMam|pm | noon | midday | midnight
    day      := today | tonight | tomorrow | yesterday | [on|this|next] weekday
                [morning|afternoon|evening|night] | YYYY-MM-DD | D/M[/Y] | a date dateparser reads

Rules (each has a test):

- ``midnight`` is the end of its day: ``midnight`` is tonight's, ``fri midnight`` is
  00:00 on Saturday; ``12am`` is the start of its day.
- A bare hour (``9``, ``at 9``) is on the 24-hour clock: 09:00. After ``tonight``,
  ``evening``, ``afternoon`` or ``night`` an hour from 1 to 11 is afternoon/evening.
- A weekday names the next day with that name whose time is still ahead: on a
  Monday at 10:14, ``mon 9am`` is next Monday and ``mon 11am`` is today.
  ``next mon`` is never today.
- A moment that is not after ``now`` is refused, suggesting the next occurrence of
  the same clock time; a day without a time is refused, asking for one; a local time
  the clocks skip (DST gap) or repeat (DST fold) is refused with the reason.
- ``1/12`` is refused when it reads two ways (1 December, January 12).

dateparser reads only the calendar-date part (``dec 1``, ``1st of december 2026``,
``day after tomorrow``). Its own reading of clock times is not used: with
``PREFER_DATES_FROM='future'`` a bare ``9am`` that has passed comes back as the
first of the month, ``monday at 9`` as September, and ``tomorrow at 9`` loses its
hour. Moments are computed on the local calendar and converted with zoneinfo,
which is what makes the DST checks exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.grammar import messages
from bot.grammar.dates import DaySpec, read_day
from bot.grammar.zonewords import Ambiguous, split_zone
from engine.errors import UsageError
from engine.schedule import RepeatedTime, SkippedTime, local_now, localize, require_aware, zone

MAX_PHRASE = 64
_CLOCK = (
    r"(?P<h>[0-9]{1,2})(?:(?P<sep>[:.])(?P<m>[0-9]{2})(?::(?P<s>[0-9]{2}))?)?(?P<ampm>am|pm)?"
    r"|(?P<word>noon|midday|midnight)"
)
_AT = r"(?P<at>(?:at|@)\s*)?"
_CLOCK_LAST = re.compile(rf"(?:(?P<rest>.+?)\s+)?{_AT}(?:{_CLOCK})", re.ASCII)
_CLOCK_FIRST = re.compile(rf"{_AT}(?:{_CLOCK})(?:\s+(?P<rest>.+))?", re.ASCII)
_UNITS = {
    "minute": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "hr": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}
_RELATIVE = re.compile(
    r"(?:in\s+(?P<n1>[0-9]{1,6}|an?|one)\s+(?P<u1>minute|min|hour|hr|day|week)s?)"
    r"|(?:(?P<n2>[0-9]{1,6}|an?|one)\s+(?P<u2>minute|min|hour|hr|day|week)s?\s+from\s+now)"
    r"|(?P<half>in\s+half\s+an\s+hour)",
    re.ASCII,
)
_TIDY = (
    (re.compile(r"\b([ap])\.?m\.?(?=\s|$)"), r"\1m"),
    (re.compile(r"([0-9])\s+([ap]m)\b"), r"\1\2"),
    (re.compile(r"\s*o'?clock\b"), ""),
    (re.compile(r"\b([0-9]{1,2}(?::[0-9]{2})?)\s+in the morning\b"), r"\1am"),
    (re.compile(r"\b([0-9]{1,2}(?::[0-9]{2})?)\s+(?:in the (?:afternoon|evening)|at night)\b"), r"\1pm"),
    (re.compile(r"([0-9]{4}-[0-9]{1,2}-[0-9]{1,2})t(?=[0-9])"), r"\1 "),
    (re.compile(r"[,;]"), " "),
    (re.compile(r"[.!?]+$"), ""),
    (re.compile(r"\s+"), " "),
)


@dataclass(frozen=True)
class Moment:
    """An instant (aware, UTC) and the IANA zone it was read in, for showing it back."""

    at: datetime
    timezone: str

    @property
    def local(self) -> datetime:
        """The instant on the wall clock of ``timezone``."""
        return self.at.astimezone(zone(self.timezone))


def read_time(
    phrase: str,
    *,
    now: datetime,
    tz: str,
    default_day: date | None = None,
    default_clock: time | None = None,
) -> Moment:
    """The moment ``phrase`` names, read in ``tz`` (an IANA name) relative to ``now``.

    ``now`` must be timezone-aware (any zone). ``default_day`` is the local day a
    clock-only phrase falls on (today when None); ``default_clock`` is the time a
    day-only phrase takes (when None, a day without a time is refused). Both serve
    follow-up edits such as "make it 10am instead".

    A zone written in the phrase (``9am IST``, ``18:30 Europe/Berlin``, ``9am New York
    time``) replaces ``tz``; the Moment says which zone it was read in.

    Raises UsageError (time passed, unreadable, a day without a time, a DST gap or
    fold, a two-way date, an unknown place), Ambiguous (an abbreviation several
    regions use, or one not in use at that date) and Invalid for an unknown ``tz``;
    ValueError for a naive ``now``.
    """
    require_aware(now)
    zone(tz)
    text = tidy(phrase)
    if not text:
        raise _fail(messages.unreadable_time(phrase))
    if len(text) > MAX_PHRASE:
        raise _fail(messages.time_too_long())
    try:
        text, said = split_zone(text)
    except UsageError as exc:
        raise _fail(exc.message, suggestion=exc.suggestion, error=exc) from None
    if said is None:
        return _read(text, now=now, tz=tz, default_day=default_day, default_clock=default_clock)
    moment = _read(text, now=now, tz=said.timezone, default_day=default_day, default_clock=default_clock)
    offset = moment.local.utcoffset()
    if said.offset is not None and offset != said.offset and not _RELATIVE.fullmatch(text):
        raise Ambiguous(
            messages.zone_not_in_use(said.written, said.timezone, offset or timedelta(0)),
            (f"{text} {said.timezone}",),
            usage=messages.USAGE["time"],
        )
    return moment


def _read(
    text: str, *, now: datetime, tz: str, default_day: date | None, default_clock: time | None
) -> Moment:
    relative = _RELATIVE.fullmatch(text)
    if relative:
        return _relative(relative, text, now=now, tz=tz)
    for candidate in (_CLOCK_LAST.fullmatch(text), _CLOCK_FIRST.fullmatch(text)):
        if candidate is None:
            continue
        found = _clock_and_day(candidate, now=now, tz=tz, default_day=default_day)
        if found is not None:
            day, clock = found
            end_of_day = candidate.group("word") == "midnight"
            return _localized(day, clock, now=now, tz=tz, end_of_day=end_of_day)
    whole_day = read_day(text, now=now, tz=tz)
    if whole_day is None:
        raise _fail(messages.unreadable_time(text))
    if default_clock is not None:
        return _localized(whole_day, default_clock, now=now, tz=tz)
    raise _fail(messages.day_without_time(text), suggestion=_with_a_time(text, now=now, tz=tz))


def tidy(phrase: str) -> str:
    """Lower-cased, with ``9 am`` → ``9am``, ``a.m.`` → ``am``, commas and end punctuation gone."""
    text = phrase.strip().lower()
    for pattern, replacement in _TIDY:
        text = pattern.sub(replacement, text)
    return text.strip()


def _relative(match: re.Match[str], text: str, *, now: datetime, tz: str) -> Moment:
    """``in 2 hours`` is 2 hours of real time; ``in 2 days`` is the same wall-clock time
    two calendar days on, which is what people mean across a DST change.
    """
    if match.group("half"):
        count, unit = 30, "minute"
    else:
        count_text = match.group("n1") or match.group("n2")
        unit = match.group("u1") or match.group("u2")
        count = 1 if count_text in ("a", "an", "one") else int(count_text)
    if count == 0:
        raise _fail(messages.time_passed(messages.code(text), local_now(now, tz), tz))
    delta = _UNITS[unit] * count
    try:
        if unit in ("minute", "min", "hour", "hr"):
            return Moment(at=now.astimezone(UTC) + delta, timezone=tz)
        now_local = local_now(now, tz)
        day = DaySpec(fixed=now_local.date() + delta)
        clock = now_local.time().replace(tzinfo=None)
        return _localized(day, clock, now=now, tz=tz)
    except OverflowError as exc:
        raise _fail(messages.too_far(text)) from exc


def _clock_and_day(
    match: re.Match[str], *, now: datetime, tz: str, default_day: date | None
) -> tuple[DaySpec, time] | None:
    """The day and clock ``match`` splits the phrase into, or None when the split is wrong.

    The rest of the phrase must be a whole day on its own: that is what keeps the
    ``1`` of ``dec 1`` a day of the month (``dec`` alone is not a day).
    """
    rest = match.group("rest")
    if rest and rest.endswith((" at", " on")):
        rest = rest[:-3]
    day = read_day(rest, now=now, tz=tz) if rest else None
    if rest and day is None:
        return None
    if day is None:
        day = DaySpec(fixed=default_day or local_now(now, tz).date())
    return day, _clock(match, hint=day.meridiem)


def _clock(match: re.Match[str], *, hint: str | None) -> time:
    written = match.group(0).strip()
    word = match.group("word")
    if word:
        return time(0) if word == "midnight" else time(12)
    hour = int(match.group("h"))
    minute = int(match.group("m") or 0)
    second = int(match.group("s") or 0)
    ampm = match.group("ampm")
    if ampm:
        if not 1 <= hour <= 12:
            raise _fail(messages.bad_clock(written))
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    elif hint == "pm" and 1 <= hour <= 11:
        hour += 12
    if hour > 23 or minute > 59 or second > 59:
        raise _fail(messages.bad_clock(written))
    return time(hour, minute, second)


def _localized(
    day: DaySpec,
    clock: time,
    *,
    now: datetime,
    tz: str,
    end_of_day: bool = False,
) -> Moment:
    zone_info = zone(tz)
    now_local = local_now(now, tz)
    target = day.resolve(clock, now_local, end_of_day=end_of_day)
    naive = datetime.combine(target, clock)
    local = _exact(naive, tz, now_local)
    if local.astimezone(UTC) <= now.astimezone(UTC):
        raise _fail(
            messages.time_passed(messages.moment(naive, now_local), now_local, tz),
            suggestion=_next_occurrence(clock, now_local, zone_info),
        )
    return Moment(at=local.astimezone(UTC), timezone=tz)


def _exact(naive: datetime, tz: str, now_local: datetime) -> datetime:
    """``naive`` on the wall clock of ``tz``, under the engine's one DST policy: a time the clocks
    skip or repeat is refused, suggesting the same time after the change.
    """
    try:
        return localize(naive, tz, field="time")
    except SkippedTime as exc:
        gap = messages.time_in_gap(messages.moment(naive, now_local), tz, exc.jump)
        raise _fail(gap, suggestion=f"{exc.instead:%Y-%m-%d %H:%M}") from exc
    except RepeatedTime as exc:
        fold = messages.time_in_fold(messages.moment(naive, now_local), tz, exc.back)
        raise _fail(fold, suggestion=f"{exc.instead:%Y-%m-%d %H:%M}" if exc.instead else None) from exc


def _next_occurrence(clock: time, now_local: datetime, zone_info: ZoneInfo) -> str:
    today = datetime.combine(now_local.date(), clock, tzinfo=zone_info)
    if today.astimezone(UTC) > now_local.astimezone(UTC):
        return f"today {messages.clock(clock)}"
    return f"tomorrow {messages.clock(clock)}"


def _with_a_time(phrase: str, *, now: datetime, tz: str) -> str | None:
    """The day-only ``phrase`` with a time that reads as a future moment, to suggest."""
    for clock in ("9am", "6pm"):
        candidate = f"{phrase} {clock}"
        try:
            read_time(candidate, now=now, tz=tz)
        except UsageError:
            continue
        return candidate
    return None


def _fail(message: str, *, suggestion: str | None = None, error: UsageError | None = None) -> UsageError:
    """A refusal of a time, with the time usage line (an Ambiguous ``error`` keeps its readings)."""
    if isinstance(error, Ambiguous):
        return Ambiguous(message, error.readings, usage=messages.USAGE["time"])
    return UsageError(message, usage=messages.USAGE["time"], suggestion=suggestion, field="time")
