"""The day part of a time phrase: ``tomorrow``, ``mon``, ``2026-12-01``, ``dec 1``, ``1/12``.

A weekday stays unresolved (``DaySpec.weekday``) until the clock time is known,
because whether ``mon 9am`` means today depends on whether 9am has passed.
Calendar dates that are not numeric or relative words go to dateparser, which
knows month names, ordinals and phrasings like ``day after tomorrow``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from dateparser.date import DateDataParser

from bot.grammar import messages
from engine.errors import UsageError
from engine.schedule import local_now

WEEKDAYS = {
    "mon": 0,
    "monday": 0,
    "tue": 1,
    "tues": 1,
    "tuesday": 1,
    "wed": 2,
    "weds": 2,
    "wednesday": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "thursday": 3,
    "fri": 4,
    "friday": 4,
    "sat": 5,
    "saturday": 5,
    "sun": 6,
    "sunday": 6,
}
_OFFSETS = {
    "today": 0,
    "tonight": 0,
    "tomorrow": 1,
    "tomorow": 1,
    "tmrw": 1,
    "tmr": 1,
    "yesterday": -1,
}
_PART_MERIDIEM = {"morning": "am", "afternoon": "pm", "evening": "pm", "night": "pm"}
_WEEKDAY_NAMES = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_DAY_WORDS = "|".join(sorted(_OFFSETS, key=len, reverse=True))
_PART = r"(?:\s+(?:in\s+the\s+)?(?P<{}>morning|afternoon|evening|night))?"
_RELATIVE_DAY = re.compile(
    rf"(?:on\s+)?(?P<word>{_DAY_WORDS}){_PART.format('word_part')}"
    rf"|(?:(?P<q>on|this|next)\s+)?(?P<weekday>{_WEEKDAY_NAMES}){_PART.format('weekday_part')}"
    r"|(?:this|in\s+the)\s+(?P<only_part>morning|afternoon|evening)",
)
_WEEKDAY_THEN_DATE = re.compile(rf"(?:on\s+)?(?P<weekday>{_WEEKDAY_NAMES})\s+(?P<date>.+)")
_ISO = re.compile(r"(?P<y>[0-9]{4})[-/.](?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})", re.ASCII)
_NUMERIC = re.compile(r"(?P<a>[0-9]{1,2})[-/.](?P<b>[0-9]{1,2})(?:[-/.](?P<y>[0-9]{4}|[0-9]{2}))?", re.ASCII)
_PARSERS = ["relative-time", "absolute-time"]
_ORDINAL = re.compile(
    r"(?:the\s+)?(?P<d>[0-9]{1,2})(?:st|nd|rd|th)(?:\s+of\s+(?:the|this)\s+month)?", re.ASCII
)


@dataclass(frozen=True)
class DaySpec:
    """A local calendar day, or a weekday still to be placed by the clock time.

    ``meridiem`` is ``"am"``/``"pm"`` when the phrase said morning, evening, tonight…
    so that ``tonight 8`` is 20:00.
    """

    fixed: date | None = None
    weekday: int | None = None
    skip_today: bool = False
    meridiem: str | None = None

    def resolve(self, clock: time, now_local: datetime, *, end_of_day: bool = False) -> date:
        """The local date of the moment: a fixed day as is, a weekday as its next date whose
        ``clock`` is still ahead. ``end_of_day`` (for ``midnight``) moves the moment to the
        start of the following day.
        """
        after = timedelta(days=1 if end_of_day else 0)
        if self.fixed is not None:
            return self.fixed + after
        today = now_local.date()
        ahead = ((self.weekday or 0) - today.weekday()) % 7
        day = today + timedelta(days=ahead)
        if ahead == 0 and (
            self.skip_today
            or _instant(datetime.combine(day + after, clock, tzinfo=now_local.tzinfo)) <= _instant(now_local)
        ):
            day += timedelta(days=7)
        return day + after


def _instant(moment: datetime) -> datetime:
    """The instant, for comparing: datetimes sharing a tzinfo compare by wall clock."""
    return moment.astimezone(UTC)


def read_day(text: str, *, now: datetime, tz: str) -> DaySpec | None:
    """The day ``text`` names (already tidied: lower case, single spaces), or None.

    Raises UsageError for text that is a date but a wrong one: not on the
    calendar (``2026-02-30``), readable two ways (``1/12``), or with a weekday
    that does not match (``mon 1 dec`` when 1 Dec 2026 is a Tuesday).
    """
    today = local_now(now, tz).date()
    relative = _RELATIVE_DAY.fullmatch(text)
    if relative:
        return _relative(relative, today)
    prefixed = _WEEKDAY_THEN_DATE.fullmatch(text)
    if prefixed:
        day = _calendar(prefixed.group("date"), today)
        if day is not None:
            if day.weekday() != WEEKDAYS[prefixed.group("weekday")]:
                raise _fail(
                    messages.wrong_weekday(
                        f"{day.day} {day:%b %Y}",
                        f"{day:%A}",
                        _weekday_name(WEEKDAYS[prefixed.group("weekday")]),
                    )
                )
            return DaySpec(fixed=day)
    text = text.removeprefix("on ")
    day = _calendar(text, today)
    return DaySpec(fixed=day) if day is not None else None


def _relative(match: re.Match[str], today: date) -> DaySpec:
    part = match.group("word_part") or match.group("weekday_part") or match.group("only_part")
    word = match.group("word")
    meridiem = _PART_MERIDIEM.get(part) if part else None
    if word == "tonight" or (word is None and match.group("weekday") is None):
        meridiem = meridiem or ("pm" if word == "tonight" else None)
        return DaySpec(fixed=today, meridiem=meridiem)
    if word is not None:
        return DaySpec(fixed=today + timedelta(days=_OFFSETS[word]), meridiem=meridiem)
    return DaySpec(
        weekday=WEEKDAYS[match.group("weekday")],
        skip_today=match.group("q") == "next",
        meridiem=meridiem,
    )


def _calendar(text: str, today: date) -> date | None:
    iso = _ISO.fullmatch(text)
    if iso:
        return _checked(text, int(iso["y"]), int(iso["m"]), int(iso["d"]))
    numeric = _NUMERIC.fullmatch(text)
    if numeric:
        return _numeric(text, numeric, today)
    ordinal = _ORDINAL.fullmatch(text)
    if ordinal:  # "the 5th": the next 5th of a month, this one's if it is still ahead
        return _next_monthly(int(ordinal["d"]), today, text)
    if not re.search(r"[a-z]", text):
        return None
    return _dateparser_day(text, today)


def _next_monthly(day: int, today: date, text: str) -> date:
    """The first date on or after ``today`` that is the ``day``-th of its month."""
    year, month = today.year, today.month
    for _ in range(13):
        try:
            found = date(year, month, day)
        except ValueError:
            found = None
        if found is not None and found >= today:
            return found
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise _fail(messages.bad_date(text))


def _numeric(text: str, match: re.Match[str], today: date) -> date:
    """``1/12``: day first or month first; refused when both are real and different dates."""
    a, b = int(match["a"]), int(match["b"])
    year_text = match["y"]
    year = None if year_text is None else int(year_text) + (2000 if len(year_text) == 2 else 0)
    day_first, month_first = _valid(year, b, a, today), _valid(year, a, b, today)
    if day_first is None or month_first is None or day_first == month_first:
        found = day_first or month_first
        if found is None:
            raise _fail(messages.bad_date(text))
        return found
    raise _fail(messages.two_way_date(text, _spoken(day_first), _spoken(month_first)))


def _valid(year: int | None, month: int, day: int, today: date) -> date | None:
    try:
        return date(year, month, day) if year is not None else _next_yearly(month, day, today)
    except ValueError:
        return None


def _next_yearly(month: int, day: int, today: date) -> date:
    """The first ``month``/``day`` on or after ``today`` (Feb 29 waits for a leap year).

    Raises ValueError when no year has that date.
    """
    for year in range(today.year, today.year + 9):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise ValueError(f"no year has {month}/{day}")


def _checked(text: str, year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise _fail(messages.bad_date(text)) from exc


@lru_cache(maxsize=8)
def _parser(today: date) -> DateDataParser:
    """One parser per local day: settings are built once, English only, no language detection."""
    return DateDataParser(
        languages=["en"],
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": datetime.combine(today, time()),
            "RETURN_TIME_AS_PERIOD": True,
            "PARSERS": _PARSERS,
        },
    )


def _dateparser_day(text: str, today: date) -> date | None:
    try:
        data = _parser(today).get_date_data(text)
    except (ValueError, OverflowError) as exc:  # dateparser's way of saying "not a date"
        raise _fail(messages.not_a_day(text)) from exc
    found = data.date_obj
    parts = set(data.parts)
    if found is None or data.period != "day" or not {"month", "day"} <= parts:
        return None
    if "year" in parts:
        return found.date()
    try:
        return _next_yearly(found.month, found.day, today)
    except ValueError:
        return None


def _spoken(day: date) -> str:
    return f"{day.day} {day:%B}"


def _weekday_name(index: int) -> str:
    return ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[index]


def _fail(message: str) -> UsageError:
    return UsageError(message, usage=messages.USAGE["time"], field="time")
