"""Periods for stats, as UTC windows: ``today``, ``last week``, ``last 30 days``, ``1 nov to 15 nov``.

    period := today | yesterday | 7d | this week | last week | this month | last month
            | this year | [the] last|past N days|weeks | <month> [year] | <day>
            | [from] <day> to|until|- <day> | between <day> and <day> | since <day>
    day    := yesterday | [last] <weekday> | YYYY-MM-DD | 25 nov [2026] | nov 25 | 25/11

Day boundaries are local midnights in the asker's zone, so "today" in
Asia/Kolkata starts at 18:30 UTC the evening before. A day that starts with a
DST change is as long as it really is (23 or 25 hours). Weeks start on Monday.
A day written without a year is its latest occurrence that is not in the future:
stats look back.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from bot.grammar import messages
from bot.grammar.commands import Window
from bot.grammar.dates import WEEKDAYS
from engine.errors import UsageError
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
    "weekly": "7d",
    "daily": "today",
    "thismorning": "today",
    "thisafternoon": "today",
    "thisevening": "today",
    "tonight": "today",
    "sofartoday": "today",
}
MONTHS = {
    **{m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun"), start=1)},
    **{m: i for i, m in enumerate(("jul", "aug", "sep", "oct", "nov", "dec"), start=7)},
    **{m: i for i, m in enumerate(("january", "february", "march", "april"), start=1)},
    **{"june": 6, "july": 7, "august": 8, "september": 9, "sept": 9, "october": 10},
    **{"november": 11, "december": 12},
}
MAX_DAYS = 366 * 3
MAX_PERIOD_WORDS = 6
MAX_PERIOD_TEXT = 64  # characters: no period is longer ("between 2026-11-01 and 2026-11-15" is 33)
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_LAST_N = re.compile(r"(?:the\s+)?(?:last|past|previous)\s+(?P<n>[0-9]{1,4})\s*(?P<unit>days?|d|weeks?|w)")
_N_DAYS = re.compile(r"(?P<n>[0-9]{1,4})\s*(?P<unit>days?|d|weeks?|w)")
_RANGE = re.compile(
    r"(?:from\s+)?(?P<a>.+?)\s+(?:to|until|till|through|-)\s+(?P<b>.+)|between\s+(?P<c>.+?)\s+and\s+(?P<d>.+)"
)
_SINCE = re.compile(r"since\s+(?P<a>.+)")
_MONTH_ONLY = re.compile(
    rf"(?:in\s+|for\s+)?(?:the\s+month\s+of\s+)?(?P<m>{_MONTH})(?:\s+(?P<y>[0-9]{{4}}))?"
)
_DAY_MONTH = re.compile(
    rf"(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m>{_MONTH})(?:,?\s+(?P<y>[0-9]{{4}}))?"
    rf"|(?P<m2>{_MONTH})\s+(?P<d2>[0-9]{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y2>[0-9]{{4}}))?"
)
_ISO = re.compile(r"(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})")
_NUMERIC = re.compile(r"(?P<a>[0-9]{1,2})[/.](?P<b>[0-9]{1,2})(?:[/.](?P<y>[0-9]{4}))?")
_PERIOD_WORD = re.compile(
    rf"today|yesterday|tonight|weekly|monthly|daily|[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}|[0-9]{{1,2}}/[0-9]{{1,2}}"
    rf"|[a-z]+day|{_MONTH}"
)
# words a period can start with: the rest of a sentence is not tried
_PERIOD_START = re.compile(
    rf"today|yesterday|tonight|weekly|monthly|daily|this|last|past|previous|the|from|between|since|on|in"
    rf"|[0-9].*|[a-z]+day|{_MONTH}"
)
_WEEKDAY_DAY = re.compile(rf"(?:on\s+)?(?:last\s+)?(?P<w>{_WEEKDAY})")


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


def read_period(text: str, *, now: datetime, tz: str) -> Window | None:  # noqa: PLR0911
    """The window ``text`` (lower case, single spaces) names at ``now`` in ``tz``, or None when
    it is not a period. Raises UsageError for one that is, but wrong (a range that ends
    before it starts, a date not on the calendar, one that reads two ways).
    """
    text = text.strip().removeprefix("for ").removeprefix("over ").strip()
    if len(text) > MAX_PERIOD_TEXT:
        return None
    alias = PERIOD_ALIASES.get("".join(text.split()))
    if alias is not None:
        return period(alias, now=now, tz=tz)
    today = local_now(now, tz).date()
    named = _named(text, today, tz)
    if named is not None:
        return named
    count = _LAST_N.fullmatch(text) or _N_DAYS.fullmatch(text)
    if count:
        n = int(count["n"]) * (7 if count["unit"].startswith("w") else 1)
        if not 1 <= n <= MAX_DAYS:
            return None
        return days("7d" if n == 7 else f"{n}d", today - timedelta(days=n - 1), today, tz)
    month = _MONTH_ONLY.fullmatch(text)
    if month:
        return _month(MONTHS[month["m"]], int(month["y"]) if month["y"] else None, today, tz)
    return _span(text, today, tz)


def find_period(words: list[str], *, now: datetime, tz: str) -> tuple[Window | None, list[str]]:
    """The longest run of ``words`` that names a period (``yesterday``, ``last 30 days``, ``friday``)
    and the words around it; ``(None, words)`` when none does.
    """
    starts = [i for i, word in enumerate(words) if _PERIOD_START.fullmatch(word)]
    for width in range(min(len(words), MAX_PERIOD_WORDS), 0, -1):
        for start in starts:
            part = words[start : start + width]
            if len(part) < width or (width == 1 and not _PERIOD_WORD.fullmatch(part[0])):
                continue
            try:
                window = read_period(" ".join(part), now=now, tz=tz)
            except UsageError:
                continue
            if window is not None:
                return window, words[:start] + words[start + width :]
    return None, words


def _named(text: str, today: date, tz: str) -> Window | None:  # noqa: PLR0911 - one per name
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    if text in ("this week", "the week so far", "week so far", "this week so far"):
        return days("this week", monday, today, tz)
    if text in ("last week", "the last week", "previous week", "the previous week"):
        return days("last week", monday - timedelta(days=7), monday - timedelta(days=1), tz)
    if text in ("monthly", "the last month", "past month", "the past month"):
        return days("30d", today - timedelta(days=29), today, tz)
    if text in ("this month", "the month so far", "month so far", "this month so far"):
        return days("this month", first, today, tz)
    if text in ("last month", "previous month", "the previous month"):
        before = first - timedelta(days=1)
        return _month(before.month, before.year, today, tz)
    if text in ("this year", "the year so far", "year so far"):
        return days(f"{today.year}", today.replace(month=1, day=1), today, tz)
    return None


def _span(text: str, today: date, tz: str) -> Window | None:
    since = _SINCE.fullmatch(text)
    ranged = _RANGE.fullmatch(text)
    start: date | None
    end: date | None
    if since:
        start, end = past_day(since["a"], today), today
    elif ranged:
        first = ranged["a"] or ranged["c"]
        start = past_day(first, today)
        end = past_day(ranged["b"] or ranged["d"], today)
        if start is not None and end is not None and end < start and _WEEKDAY_DAY.fullmatch(first):
            start -= timedelta(days=7)  # "monday to wednesday": the days in that order, looking back
    else:
        single = past_day(text, today)
        return days(single.isoformat(), single, single, tz) if single else None
    if start is None or end is None:
        return None
    if end < start:
        raise UsageError(messages.backwards_period(text), usage=messages.USAGE["stats"], field="period")
    return days(f"{start.isoformat()} – {end.isoformat()}", start, end, tz)


def past_day(text: str, today: date) -> date | None:  # noqa: PLR0911 - one per form of day
    """The day ``text`` names, looking back: its latest occurrence on or before ``today``."""
    text = text.strip().removeprefix("on ").removeprefix("the ")
    if text in ("today", "now"):
        return today
    if text == "yesterday":
        return today - timedelta(days=1)
    weekday = _WEEKDAY_DAY.fullmatch(text)
    if weekday:
        return today - timedelta(days=(today.weekday() - WEEKDAYS[weekday["w"]]) % 7)
    iso = _ISO.fullmatch(text)
    if iso:
        return _checked(text, int(iso["y"]), int(iso["m"]), int(iso["d"]))
    written = _DAY_MONTH.fullmatch(text)
    if written:
        day, month = int(written["d"] or written["d2"]), MONTHS[written["m"] or written["m2"]]
        year = written["y"] or written["y2"]
        if year:
            return _checked(text, int(year), month, day)
        return _latest(text, month, day, today)
    numeric = _NUMERIC.fullmatch(text)
    if numeric:
        return _numeric(text, numeric, today)
    return None


def _numeric(text: str, match: re.Match[str], today: date) -> date:
    a, b = int(match["a"]), int(match["b"])
    readings = set()
    for day, month in ((a, b), (b, a)):
        try:
            found = date(int(match["y"]), month, day) if match["y"] else _latest(text, month, day, today)
        except (ValueError, UsageError):
            continue
        readings.add(found)
    if len(readings) == 1:
        return readings.pop()
    if not readings:
        raise UsageError(messages.bad_date(text), usage=messages.USAGE["stats"], field="period")
    first, second = sorted(readings)
    raise UsageError(
        messages.two_way_date(text, f"{first.day} {first:%B}", f"{second.day} {second:%B}"),
        usage=messages.USAGE["stats"],
        field="period",
    )


def _latest(text: str, month: int, day: int, today: date) -> date:
    for year in range(today.year, today.year - 9, -1):
        try:
            found = date(year, month, day)
        except ValueError:
            continue
        if found <= today:
            return found
    raise UsageError(messages.bad_date(text), usage=messages.USAGE["stats"], field="period")


def _checked(text: str, year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise UsageError(messages.bad_date(text), usage=messages.USAGE["stats"], field="period") from exc


def _month(month: int, year: int | None, today: date, tz: str) -> Window:
    if year is None:
        year = today.year if month <= today.month else today.year - 1
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    last = min(following - timedelta(days=1), max(today, first))
    return days(f"{first:%B %Y}", first, last, tz)


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
