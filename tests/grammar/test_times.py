"""Reading schedule times: forms, the past-time rule, weekdays, DST gaps and folds, zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.grammar.dates import WEEKDAYS
from bot.grammar.periods import days, period
from bot.grammar.times import Moment, read_time
from engine.errors import Invalid, UsageError

from .support import KOLKATA, NEW_YORK, NOW, local

SPRING = datetime(2026, 3, 7, 12, 0, tzinfo=ZoneInfo(NEW_YORK))  # Sat; clocks jump 2→3am Sun 8 Mar
FALL = datetime(2026, 10, 31, 12, 0, tzinfo=ZoneInfo(NEW_YORK))  # Sat; clocks go 2→1am Sun 1 Nov


def at(phrase: str, *, now: datetime = NOW, tz: str = KOLKATA) -> str:
    return local(read_time(phrase, now=now, tz=tz).at, tz)


def refused(phrase: str, *, now: datetime = NOW, tz: str = KOLKATA) -> UsageError:
    with pytest.raises(UsageError) as caught:
        read_time(phrase, now=now, tz=tz)
    return caught.value


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("9:30pm", "Mon 2026-11-30 21:30"),
        ("9.30pm", "Mon 2026-11-30 21:30"),
        ("9:30 PM", "Mon 2026-11-30 21:30"),
        ("6 p.m.", "Mon 2026-11-30 18:00"),
        ("18:30", "Mon 2026-11-30 18:30"),
        ("at 18:30", "Mon 2026-11-30 18:30"),
        ("noon", "Mon 2026-11-30 12:00"),
        ("tomorrow 18:30", "Tue 2026-12-01 18:30"),
        ("tomorrow at 9", "Tue 2026-12-01 09:00"),
        ("tomorrow 9 pm", "Tue 2026-12-01 21:00"),
        ("10am tomorrow", "Tue 2026-12-01 10:00"),
        ("at 9am tomorrow", "Tue 2026-12-01 09:00"),
        ("tmrw 7am", "Tue 2026-12-01 07:00"),
        ("tonight 8", "Mon 2026-11-30 20:00"),
        ("tonight at 11pm", "Mon 2026-11-30 23:00"),
        ("9 o'clock tonight", "Mon 2026-11-30 21:00"),
        ("tomorrow evening at 6", "Tue 2026-12-01 18:00"),
        ("tomorrow morning at 9", "Tue 2026-12-01 09:00"),
        ("this afternoon 3", "Mon 2026-11-30 15:00"),
        ("mon 9am", "Mon 2026-12-07 09:00"),
        ("monday at 9", "Mon 2026-12-07 09:00"),
        ("mon 11am", "Mon 2026-11-30 11:00"),
        ("next mon 11am", "Mon 2026-12-07 11:00"),
        ("on monday 9am", "Mon 2026-12-07 09:00"),
        ("tue 9am", "Tue 2026-12-01 09:00"),
        ("this friday 5pm", "Fri 2026-12-04 17:00"),
        ("sun 9am", "Sun 2026-12-06 09:00"),
        ("2026-12-01 09:00", "Tue 2026-12-01 09:00"),
        ("2026-12-01T09:00", "Tue 2026-12-01 09:00"),
        ("2026/12/01 9am", "Tue 2026-12-01 09:00"),
        ("dec 1 9am", "Tue 2026-12-01 09:00"),
        ("1 dec 9am", "Tue 2026-12-01 09:00"),
        ("9am on dec 1", "Tue 2026-12-01 09:00"),
        ("december 1st at 9am", "Tue 2026-12-01 09:00"),
        ("1st of december 2026 at 18:30", "Tue 2026-12-01 18:30"),
        ("tue 1 dec 9am", "Tue 2026-12-01 09:00"),
        ("day after tomorrow 9am", "Wed 2026-12-02 09:00"),
        ("nov 29 9am", "Mon 2027-11-29 09:00"),  # the next 29 November
        ("feb 29 9am", "Tue 2028-02-29 09:00"),  # waits for a leap year
        ("13/1 9am", "Wed 2027-01-13 09:00"),  # only one reading is a date
        ("in 2 hours", "Mon 2026-11-30 12:14"),
        ("in 90 minutes", "Mon 2026-11-30 11:44"),
        ("in an hour", "Mon 2026-11-30 11:14"),
        ("in half an hour", "Mon 2026-11-30 10:44"),
        ("2 hours from now", "Mon 2026-11-30 12:14"),
        ("in 2 days", "Wed 2026-12-02 10:14"),
        ("in 1 week", "Mon 2026-12-07 10:14"),
        ("midnight", "Tue 2026-12-01 00:00"),  # the end of today
        ("fri midnight", "Sat 2026-12-05 00:00"),  # the end of Friday
        ("tomorrow 12am", "Tue 2026-12-01 00:00"),  # the start of tomorrow
        ("  Tomorrow,  9AM. ", "Tue 2026-12-01 09:00"),
    ],
)
def test_time_phrases_are_read_in_the_askers_zone(phrase: str, expected: str) -> None:
    assert at(phrase) == expected


def test_the_result_is_aware_utc_with_the_zone_it_was_read_in() -> None:
    moment = read_time("tomorrow 18:30", now=NOW, tz=KOLKATA)
    assert moment == Moment(at=datetime(2026, 12, 1, 13, 0, tzinfo=UTC), timezone=KOLKATA)
    assert moment.at.utcoffset() == timedelta(0)
    assert f"{moment.local:%H:%M %Z}" == "18:30 IST"


@pytest.mark.parametrize(
    ("phrase", "words", "suggestion"),
    [
        ("9am", "9am today has passed (it is 10:14 Asia/Kolkata).", "tomorrow 9am"),
        ("at 9", "9am today has passed (it is 10:14 Asia/Kolkata).", "tomorrow 9am"),
        ("today 9:30am", "9:30am today has passed", "tomorrow 9:30am"),
        ("10:14", "10:14am today has passed", "tomorrow 10:14am"),
        ("yesterday 9am", "9am yesterday has passed", "tomorrow 9am"),
        ("yesterday 11am", "11am yesterday has passed", "today 11am"),
        ("2025-12-01 09:00", "9am on Mon 1 Dec 2025 has passed", "tomorrow 9am"),
        ("in 0 minutes", "`in 0 minutes` has passed", None),
    ],
)
def test_a_time_that_has_passed_is_refused_with_its_next_occurrence(
    phrase: str, words: str, suggestion: str | None
) -> None:
    err = refused(phrase)
    assert words in err.message
    assert err.suggestion == suggestion
    assert err.field == "time"
    if suggestion:
        assert read_time(suggestion, now=NOW, tz=KOLKATA).at > NOW
        assert f"Did you mean `{suggestion}`?" in err.render()


@pytest.mark.parametrize(
    ("phrase", "suggestion"),
    [
        ("tomorrow", "tomorrow 9am"),
        ("dec 1", "dec 1 9am"),
        ("monday", "monday 9am"),
        ("2026-12-01", "2026-12-01 9am"),
        ("tonight", "tonight 6pm"),  # 9am tonight is morning, which has passed
        ("tomorrow morning", "tomorrow morning 9am"),
        ("day after tomorrow", "day after tomorrow 9am"),
        ("yesterday", None),
    ],
)
def test_a_day_without_a_time_asks_for_one(phrase: str, suggestion: str | None) -> None:
    err = refused(phrase)
    assert f"`{phrase}` is a day without a time: at what time?" in err.message
    assert err.suggestion == suggestion
    if suggestion:
        assert read_time(suggestion, now=NOW, tz=KOLKATA).at > NOW


@pytest.mark.parametrize(
    ("phrase", "words"),
    [
        ("blorp", "I can't read `blorp` as a time."),
        ("next week 9am", "I can't read `next week 9am` as a time."),
        ("now", "I can't read `now` as a time."),
        ("930", "I can't read `930` as a time."),
        ("", "I can't read"),
        ("1/12 9am", "`1/12` could be 1 December or 12 January."),
        ("12.1 5pm", "`12.1` could be 12 January or 1 December."),
        ("mon 1 dec 9am", "1 Dec 2026 is a Tuesday, not a Monday."),
        ("2026-02-30 9am", "`2026-02-30` is not a date on the calendar."),
        ("31/2 9am", "`31/2` is not a date on the calendar."),
        ("13pm", "`13pm` is not a time of day."),
        ("0am", "`0am` is not a time of day."),
        ("25:00", "`25:00` is not a time of day."),
        ("9:75", "`9:75` is not a time of day."),
        ("in 999999 weeks", "`in 999999 weeks` is too far ahead."),
        ("tomorrow " * 12, "That is too long to be a time."),
    ],
)
def test_unreadable_and_wrong_times_are_refused_with_the_reason(phrase: str, words: str) -> None:
    err = refused(phrase)
    assert words in err.message
    assert err.usage.startswith("at 9am")


def test_an_unreadable_time_lists_examples_that_read() -> None:
    err = refused("blorp")
    for example in ("9am", "tomorrow 9am", "mon 9am", "2026-12-01 09:00", "in 2 hours"):
        assert f"`{example}`" in err.message
    for example in ("tomorrow 9am", "mon 9am", "2026-12-01 09:00", "in 2 hours"):
        assert read_time(example, now=NOW, tz=KOLKATA).at > NOW


# --- weekdays ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(WEEKDAYS))
@pytest.mark.parametrize("hour", [0, 9, 10, 11, 23])
def test_a_weekday_is_its_next_day_whose_time_is_still_ahead(name: str, hour: int) -> None:
    moment = read_time(f"{name} {hour}:00", now=NOW, tz=KOLKATA).local
    assert moment.weekday() == WEEKDAYS[name]
    assert NOW < moment <= NOW + timedelta(days=7)


@pytest.mark.parametrize("name", sorted(WEEKDAYS))
def test_next_weekday_is_never_today(name: str) -> None:
    moment = read_time(f"next {name} 23:00", now=NOW, tz=KOLKATA).local
    assert moment.weekday() == WEEKDAYS[name]
    assert moment.date() != NOW.date()


# --- zones and DST ----------------------------------------------------------------------


def test_the_same_instant_reads_differently_in_different_zones() -> None:
    # 04:44 UTC: 10:14 on Monday in Kolkata, 23:44 on Sunday in New York
    assert refused("9am", tz=KOLKATA).suggestion == "tomorrow 9am"
    assert at("9am", tz="UTC") == "Mon 2026-11-30 09:00"
    assert "(it is 23:44 America/New_York)" in refused("9am", tz=NEW_YORK).message
    assert at("tomorrow 9am", tz=NEW_YORK) == "Mon 2026-11-30 09:00"
    assert at("11:50pm", tz=NEW_YORK) == "Sun 2026-11-29 23:50"
    assert "it is 04:44 UTC" in refused("4am", tz="UTC").message


def test_a_time_the_clocks_skip_is_refused_with_the_time_after_the_jump() -> None:
    err = refused("tomorrow 2:30am", now=SPRING, tz=NEW_YORK)
    assert "2:30am tomorrow does not exist in America/New_York" in err.message
    assert "the clocks jump forward 1 hour then" in err.message
    assert err.suggestion == "2026-03-08 03:30"
    assert at("2026-03-08 03:30", now=SPRING, tz=NEW_YORK) == "Sun 2026-03-08 03:30"


def test_a_time_the_clocks_repeat_is_refused_as_ambiguous() -> None:
    for phrase in ("tomorrow 1:30am", "sun 1am", "2026-11-01 01:59"):
        err = refused(phrase, now=FALL, tz=NEW_YORK)
        assert "happens twice in America/New_York" in err.message
        assert "the clocks go back 1 hour then" in err.message
    assert refused("tomorrow 1:30am", now=FALL, tz=NEW_YORK).suggestion == "2026-11-01 02:30"


@pytest.mark.parametrize(
    ("phrase", "now", "utc"),
    [
        ("tomorrow 1:59am", SPRING, datetime(2026, 3, 8, 6, 59, tzinfo=UTC)),  # EST, -5
        ("tomorrow 3:00am", SPRING, datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),  # EDT, -4
        ("tomorrow 0:59", FALL, datetime(2026, 11, 1, 4, 59, tzinfo=UTC)),  # EDT
        ("tomorrow 2am", FALL, datetime(2026, 11, 1, 7, 0, tzinfo=UTC)),  # EST
        ("in 24 hours", SPRING, datetime(2026, 3, 8, 17, 0, tzinfo=UTC)),  # 24 real hours
        ("in 1 day", SPRING, datetime(2026, 3, 8, 16, 0, tzinfo=UTC)),  # same wall clock, 23h
    ],
)
def test_times_around_a_dst_change_have_the_right_offset(phrase: str, now: datetime, utc: datetime) -> None:
    assert read_time(phrase, now=now, tz=NEW_YORK).at == utc


def test_a_half_hour_dst_jump_is_named_in_minutes() -> None:
    lord_howe = "Australia/Lord_Howe"  # moves 30 minutes, at 2am on the first Sunday of October
    now = datetime(2026, 10, 3, 12, 0, tzinfo=ZoneInfo(lord_howe))
    err = refused("tomorrow 2:15am", now=now, tz=lord_howe)
    assert "the clocks jump forward 30 minutes then" in err.message


def test_now_may_be_given_in_any_zone() -> None:
    same_instant = NOW.astimezone(UTC)
    assert read_time("6pm", now=same_instant, tz=KOLKATA) == read_time("6pm", now=NOW, tz=KOLKATA)


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        read_time("6pm", now=datetime(2026, 11, 30, 10, 14), tz=KOLKATA)


def test_an_unknown_zone_is_invalid_not_a_usage_error() -> None:
    with pytest.raises(Invalid) as caught:
        read_time("6pm", now=NOW, tz="Mars/Olympus_Mons")
    assert not isinstance(caught.value, UsageError)
    assert caught.value.field == "timezone"
    assert "Mars/Olympus_Mons" in caught.value.message


def test_a_clock_only_phrase_can_fall_on_a_given_day() -> None:
    day = datetime(2026, 12, 1).date()
    moment = read_time("10am", now=NOW, tz=KOLKATA, default_day=day)
    assert local(moment.at) == "Tue 2026-12-01 10:00"


def test_a_day_only_phrase_can_take_a_given_time() -> None:
    nine = datetime(2026, 1, 1, 9, 0).time()
    moment = read_time("friday", now=NOW, tz=KOLKATA, default_clock=nine)
    assert local(moment.at) == "Fri 2026-12-04 09:00"


# --- periods ----------------------------------------------------------------------------


def test_today_is_the_local_day_in_utc() -> None:
    window = period("today", now=NOW, tz=KOLKATA)
    assert (window.start, window.end) == (
        datetime(2026, 11, 29, 18, 30, tzinfo=UTC),
        datetime(2026, 11, 30, 18, 30, tzinfo=UTC),
    )


def test_seven_days_are_the_local_days_ending_today() -> None:
    window = period("7d", now=NOW, tz=KOLKATA)
    assert window.end - window.start == timedelta(days=7)
    assert window.end == period("today", now=NOW, tz=KOLKATA).end


def test_a_day_with_a_dst_change_is_as_long_as_it_really_is() -> None:
    sunday = datetime(2026, 3, 8).date()
    window = days("dst", sunday, sunday, NEW_YORK)
    assert window.end - window.start == timedelta(hours=23)
