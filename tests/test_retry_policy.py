"""The retry policy as a table: each WhatsApp outcome, on a given attempt, to one decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine import retry
from engine.sender import Outcome
from engine.whatsapp.errors import classify
from storage.states import HeldReason

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
WAIT = HeldReason.RETRY_131049


def _error(code: int | None, *, http_status: int | None = None, details: str = "") -> Outcome:
    family = classify(code, http_status=http_status)
    return family(f"error {code}", code=code, details=details, http_status=http_status)


@pytest.mark.parametrize(
    ("outcome", "attempts", "retries_131049", "expected"),
    [
        ("wamid.OK", 1, None, retry.Sent("wamid.OK")),
        (_error(None, http_status=502), 1, None, retry.Unconfirmed("error None")),
        (_error(None), 8, None, retry.Unconfirmed("error None")),  # never given up: reconciled
        (
            _error(131026, details="undeliverable"),
            1,
            None,
            retry.Fail(131026, "error 131026", "undeliverable"),
        ),
        (_error(131049), 1, 0, retry.Retry(NOW + timedelta(hours=24), 131049, "error 131049", WAIT)),
        (_error(131049), 2, 1, retry.Retry(NOW + timedelta(hours=24), 131049, "error 131049", WAIT)),
        (_error(131049, details="again"), 3, 2, retry.Fail(131049, "error 131049", "again")),
        (_error(131049), 9, 0, retry.Retry(NOW + timedelta(hours=24), 131049, "error 131049", WAIT)),
        (_error(132015), 1, 0, retry.Withheld(132015, "error 132015", "PAUSED")),
        (_error(132016), 8, 0, retry.Withheld(132016, "error 132016", "DISABLED")),
        (_error(131056), 1, None, retry.Retry(NOW + timedelta(seconds=1), 131056, "error 131056")),
        (_error(131056), 2, None, retry.Retry(NOW + timedelta(seconds=4), 131056, "error 131056")),
        (_error(131056), 4, None, retry.Retry(NOW + timedelta(seconds=64), 131056, "error 131056")),
        (_error(130429), 3, None, retry.Retry(NOW + timedelta(seconds=2), 130429, "error 130429")),
        (_error(None, http_status=429), 1, None, retry.Retry(NOW + timedelta(seconds=2), None, "error None")),
        (_error(131000), 8, None, retry.Fail(131000, "error 131000", "gave up after retries")),
        (_error(131056), 9, None, retry.Fail(131056, "error 131056", "gave up after retries")),
        (_error(130429), 8, None, retry.Fail(130429, "error 130429", "gave up after retries")),
    ],
    ids=[
        "success",
        "ambiguous-5xx",
        "ambiguous-never-given-up",
        "permanent",
        "131049-first",
        "131049-second",
        "131049-third-fails",
        "131049-after-other-retries",
        "132015-template-paused",
        "132016-template-disabled",
        "131056-attempt-1",
        "131056-attempt-2",
        "131056-attempt-4",
        "130429",
        "bare-429",
        "retryable-max-attempts",
        "131056-max-attempts",
        "130429-max-attempts",
    ],
)
def test_each_outcome_gets_its_decision(
    outcome: Outcome, attempts: int, retries_131049: int | None, expected: retry.Decision
) -> None:
    assert retry.decide(outcome, attempts, NOW, retries_131049=retries_131049 or 0) == expected


@pytest.mark.parametrize(("most", "waits"), [(0, 0), (1, 1), (3, 3)])
def test_131049_waits_at_most_the_configured_number_of_times(most: int, waits: int) -> None:
    decisions = [
        retry.decide(_error(131049), n + 1, NOW, retries_131049=n, max_131049=most) for n in range(5)
    ]
    assert sum(isinstance(d, retry.Retry) for d in decisions) == waits
    assert isinstance(decisions[waits], retry.Fail)


@pytest.mark.parametrize("code", [0, 190])
def test_refused_credentials_halt_the_batch_and_requeue_the_row(code: int) -> None:
    error = _error(code)
    decision = retry.decide(error, 1, NOW)
    assert decision == retry.Halt(code, f"error {code}", error)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "attempts", "seconds"),
    [(131000, 1, 5), (1, 2, 10), (131016, 3, 20), (2, 7, 320), (80007, 7, 320)],
)
def test_other_retryable_errors_back_off_exponentially_with_jitter(
    code: int, attempts: int, seconds: int
) -> None:
    for _ in range(20):
        decision = retry.decide(_error(code), attempts, NOW)
        assert isinstance(decision, retry.Retry)
        assert (decision.code, decision.title) == (code, f"error {code}")
        wait = (decision.at - NOW).total_seconds()
        assert seconds * 0.8 <= wait <= seconds * 1.2


def test_backoff_never_waits_more_than_ten_minutes_and_pair_backoff_an_hour() -> None:
    assert retry.backoff(30, jitter=0) == timedelta(minutes=10)
    assert retry.pair_backoff(30) == timedelta(hours=1)
