"""The retry policy: what one send's outcome means for its ledger row. Pure: no clock, no I/O.

outcome                              decision
a wamid                              Sent
Ambiguous (timeout, bare 5xx)        Unconfirmed: stays ``sending`` until reconciled
CredentialsError (0, 190)            Halt: back to the queue, the batch stops
Permanent                            Fail
RetryLater (131049)                  Retry in 24 h, once; the same code again → Fail
any retryable, attempt MAX_ATTEMPTS  Fail ("gave up after retries")
PairRateLimited (131056)             Retry after 4^(attempt-1) s (Meta's rule)
Throttled (130429)                   Retry in 2 s (every sender also slows down)
other retryable                      Retry with exponential backoff and jitter
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.sender import Outcome
from engine.whatsapp.errors import (
    Ambiguous,
    CredentialsError,
    DeliveryError,
    PairRateLimited,
    Permanent,
    RetryLater,
    Throttled,
)

MAX_ATTEMPTS = 8
RETRY_LATER = timedelta(hours=24)
THROTTLED = timedelta(seconds=2)


@dataclass(frozen=True)
class Sent:
    wamid: str


@dataclass(frozen=True)
class Unconfirmed:
    """Meta may have accepted it: the row waits for a status echo (reconciliation)."""

    what: str


@dataclass(frozen=True)
class Retry:
    at: datetime
    code: int | None
    title: str


@dataclass(frozen=True)
class Halt:
    """The token was refused: the row goes back to the queue untried, and the batch stops."""

    code: int | None
    title: str
    error: CredentialsError


@dataclass(frozen=True)
class Fail:
    code: int | None
    title: str
    detail: str


Decision = Sent | Unconfirmed | Retry | Halt | Fail


def backoff(attempt: int, *, base: float = 5.0, ceiling: float = 600.0, jitter: float = 0.2) -> timedelta:
    """Exponential backoff with jitter: 5 s, 10 s, 20 s ... at most 10 min (each ±20%)."""
    seconds = min(ceiling, base * 2 ** max(0, attempt - 1))
    return timedelta(seconds=seconds * random.uniform(1 - jitter, 1 + jitter))


def pair_backoff(attempt: int) -> timedelta:
    """Meta's rule for 131056: wait 4^X seconds before trying that recipient again (at most 1 h)."""
    return timedelta(seconds=min(4 ** max(0, attempt - 1), 3600))


def decide(  # noqa: PLR0911 - a decision table
    outcome: Outcome, attempts: int, now: datetime, *, last_error: int | None = None
) -> Decision:
    """What to do with a row after its ``attempts``-th send answered ``outcome`` at ``now``.

    ``last_error`` is the Graph code the row's previous attempt failed with, if any.
    """
    if isinstance(outcome, str):
        return Sent(outcome)
    if isinstance(outcome, Ambiguous):
        return Unconfirmed(outcome.title)
    if isinstance(outcome, CredentialsError):
        return Halt(outcome.error_code, outcome.title, outcome)
    if isinstance(outcome, Permanent) or (
        isinstance(outcome, RetryLater) and last_error == outcome.error_code
    ):
        return Fail(outcome.error_code, outcome.title, outcome.details)
    if isinstance(outcome, RetryLater):
        return Retry(now + RETRY_LATER, outcome.error_code, outcome.title)
    assert isinstance(outcome, DeliveryError)
    if attempts >= MAX_ATTEMPTS:
        return Fail(outcome.error_code, outcome.title, "gave up after retries")
    if isinstance(outcome, PairRateLimited):
        return Retry(now + pair_backoff(attempts), outcome.error_code, outcome.title)
    if isinstance(outcome, Throttled):
        return Retry(now + THROTTLED, outcome.error_code, outcome.title)
    return Retry(now + backoff(attempts), outcome.error_code, outcome.title)
