"""The retry policy: what one send's outcome means for its ledger row. Pure: no clock, no I/O.

outcome                              decision
a wamid                              Sent
Ambiguous (timeout, bare 5xx)        Unconfirmed: stays ``sending`` until reconciled
CredentialsError (0, 190)            Halt: back to the queue, the batch stops
TemplateUnavailable (132015, 132016) Withheld: back to the queue untried; the template stops
Permanent                            Fail
RetryLater (131049)                  Retry in 24 h, held (``retry_131049``), at most
                                     ``max_131049`` times; then Fail
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
    TemplateUnavailable,
    Throttled,
)
from storage.states import HeldReason

MAX_ATTEMPTS = 8
RETRY_LATER = timedelta(hours=24)  # Meta: wait at least 24 hours after 131049
RETRY_131049_MAX = 2
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
    held: HeldReason | None = None  # waits ``held`` until ``at`` (a long wait, by rule)


@dataclass(frozen=True)
class Halt:
    """The token was refused: the row goes back to the queue untried, and the batch stops."""

    code: int | None
    title: str
    error: CredentialsError


@dataclass(frozen=True)
class Withheld:
    """Meta refused the template itself (paused or disabled): the row goes back to the queue
    untried, and the template is marked ``status`` so that nothing else sends it."""

    code: int | None
    title: str
    status: str  # PAUSED | DISABLED


@dataclass(frozen=True)
class Fail:
    code: int | None
    title: str
    detail: str


Decision = Sent | Unconfirmed | Retry | Halt | Withheld | Fail


def backoff(attempt: int, *, base: float = 5.0, ceiling: float = 600.0, jitter: float = 0.2) -> timedelta:
    """Exponential backoff with jitter: 5 s, 10 s, 20 s ... at most 10 min (each ±20%)."""
    seconds = min(ceiling, base * 2 ** max(0, attempt - 1))
    return timedelta(seconds=seconds * random.uniform(1 - jitter, 1 + jitter))


def pair_backoff(attempt: int) -> timedelta:
    """Meta's rule for 131056: wait 4^X seconds before trying that recipient again (at most 1 h)."""
    return timedelta(seconds=min(4 ** max(0, attempt - 1), 3600))


def decide(  # noqa: PLR0911 - a decision table
    outcome: Outcome,
    attempts: int,
    now: datetime,
    *,
    retries_131049: int = 0,
    max_131049: int = RETRY_131049_MAX,
) -> Decision:
    """What to do with a row after its ``attempts``-th send answered ``outcome`` at ``now``.

    ``retries_131049`` is how many times the row already waited 24 hours for WhatsApp's
    per-user marketing limit (131049); after ``max_131049`` waits it fails with that reason.
    """
    if isinstance(outcome, str):
        return Sent(outcome)
    if isinstance(outcome, Ambiguous):
        return Unconfirmed(outcome.title)
    if isinstance(outcome, CredentialsError):
        return Halt(outcome.error_code, outcome.title, outcome)
    if isinstance(outcome, TemplateUnavailable):
        return Withheld(outcome.error_code, outcome.title, outcome.template_status)
    if isinstance(outcome, Permanent) or (isinstance(outcome, RetryLater) and retries_131049 >= max_131049):
        return Fail(outcome.error_code, outcome.title, outcome.details)
    if isinstance(outcome, RetryLater):
        return Retry(now + RETRY_LATER, outcome.error_code, outcome.title, HeldReason.RETRY_131049)
    assert isinstance(outcome, DeliveryError)
    if attempts >= MAX_ATTEMPTS:
        return Fail(outcome.error_code, outcome.title, "gave up after retries")
    if isinstance(outcome, PairRateLimited):
        return Retry(now + pair_backoff(attempts), outcome.error_code, outcome.title)
    if isinstance(outcome, Throttled):
        return Retry(now + THROTTLED, outcome.error_code, outcome.title)
    return Retry(now + backoff(attempts), outcome.error_code, outcome.title)
