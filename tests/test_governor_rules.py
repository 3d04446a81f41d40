"""The governor's pure rules as tables: the breaker's judgement and the messaging limit's schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.breaker import Thresholds, judge
from engine.limit import Candidate, admit, moments, room, schedule, window_start
from storage.breaker import Tally

NOW = datetime(2026, 11, 30, 8, 0, 30, tzinfo=UTC)
T = Thresholds(window=500, failure_rate=0.10, optout_rate=0.02)


@pytest.mark.parametrize(
    ("tally", "trips"),
    [
        (Tally(500, 50, 0), None),  # 10% is the limit, not over it
        (Tally(500, 51, 0), "failed (10.2%"),
        (Tally(500, 0, 10), None),
        (Tally(500, 0, 11), "opted out or blocked (2.2%"),
        (Tally(3, 3, 0), None),  # three of the first three: against the floor of 100, 3%
        (Tally(30, 30, 0), "failed (30.0%"),  # a small broadcast failing whole still trips
        (Tally(40, 0, 3), "opted out or blocked (3.0%"),
        (Tally(0, 0, 0), None),
        (Tally(560, 60, 0), "failed (10.7%"),  # a window a batch past its size: what it has
    ],
)
def test_the_breaker_judges_the_window_against_a_floor(tally: Tally, trips: str | None) -> None:
    why = judge("Diwali", tally, T)
    if trips is None:
        assert why is None
    else:
        assert why is not None
        assert trips in why


def test_the_floor_is_a_fifth_of_the_window() -> None:
    assert (Thresholds(window=500).floor, Thresholds(window=20).floor, Thresholds(window=1).floor) == (
        100,
        4,
        1,
    )


def test_a_reach_counts_until_its_whole_minute_is_a_day_old() -> None:
    assert window_start(NOW) == datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    assert room(None, 10_000) is None
    assert room(250, 200) == 50
    assert room(250, 200, waiting=80) == 0


def test_rows_waiting_for_room_go_as_minutes_leave_the_window_oldest_first() -> None:
    minutes = [
        (datetime(2026, 11, 29, 9, 0, tzinfo=UTC), 100),
        (datetime(2026, 11, 29, 9, 10, tzinfo=UTC), 150),
    ]
    # 250 used of 250: nothing now; 100 back at 9:01 tomorrow... today, 150 at 9:11
    groups = schedule(250, minutes, NOW, skip=0, count=200)
    assert groups == [
        (datetime(2026, 11, 30, 9, 1, tzinfo=UTC), 100),
        (datetime(2026, 11, 30, 9, 11, tzinfo=UTC), 100),
    ]
    behind = schedule(250, minutes, NOW, skip=120, count=10)
    assert behind == [(datetime(2026, 11, 30, 9, 11, tzinfo=UTC), 10)]
    assert len(moments(groups)) == 200


def test_room_now_goes_first_and_what_it_sends_comes_back_a_day_later() -> None:
    groups = schedule(100, [], NOW, skip=0, count=250)
    assert groups == [
        (NOW, 100),
        (datetime(2026, 12, 1, 8, 1, tzinfo=UTC), 100),
        (datetime(2026, 12, 2, 8, 2, tzinfo=UTC), 50),
    ]


def test_an_estimate_past_thirty_days_says_so() -> None:
    groups = schedule(10, [], NOW, skip=0, count=1_000)
    assert groups[-1][0] is None
    assert sum(n for _, n in groups) == 1_000
    assert all(m is not None and m <= NOW + timedelta(days=30) for m, _ in groups[:-1])


def test_admission_lets_the_reached_and_the_first_in_line_go_first() -> None:
    rows = [
        Candidate(1, 10),
        Candidate(2, 11),
        Candidate(3, 12, let_go=True),
        Candidate(4, 10),
        Candidate(5, 13),
    ]
    admitted, waiting = admit(rows, reached={13}, room_first=2, room_fresh=2)
    assert [c.id for c in admitted] == [3, 1, 4, 5]  # 3 was let go; 4 shares 1's contact; 13 was reached
    assert [c.id for c in waiting] == [2]
    admitted, waiting = admit(rows, reached=set(), room_first=1, room_fresh=0)
    assert [c.id for c in admitted] == [3]  # fresh rows never jump the ones waiting
