"""Cloud API delivery errors, classified by Graph error ``code`` (never by HTTP status).

    DeliveryError                       a send did not go through
    ├── Retryable                       not accepted; try again soon
    │   ├── Throttled                   130429: the sender number is over its rate; slow down
    │   ├── PairRateLimited             131056: too many to this recipient; back off for them alone
    │   └── Ambiguous                   timeout, dropped connection, bare 5xx: Meta MAY have
    │                                   accepted it; reconcile before any resend
    ├── RetryLater                      131049: per-user marketing limit; retry once after 24 h
    ├── Permanent                       fix something first; never retried
    └── CredentialsError                0, 190: the token is bad; stop everything and alert

This package is the only place that knows Graph error codes.
"""

from __future__ import annotations

from engine.errors import HeraldError

RETRYABLE_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131056, 131057})
RETRY_LATER_CODES = frozenset({131049})
CREDENTIAL_CODES = frozenset({0, 190})


class DeliveryError(HeraldError):
    """A send failed. ``code`` is the Graph error code (None for transport failures)."""

    code_family = "delivery"

    def __init__(
        self,
        title: str,
        *,
        code: int | None = None,
        details: str = "",
        http_status: int | None = None,
        fbtrace_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(title)
        self.error_code = code
        self.title = title
        self.details = details
        self.http_status = http_status
        self.fbtrace_id = fbtrace_id
        self.retry_after = retry_after

    @property
    def reason(self) -> str:
        """How the funnel names this failure: ``"131026 Message undeliverable"``."""
        return f"{self.error_code} {self.title}" if self.error_code is not None else self.title


class Retryable(DeliveryError):
    pass


class Throttled(Retryable):
    pass


class PairRateLimited(Retryable):
    pass


class Ambiguous(Retryable):
    """The request may have been accepted: the response never arrived or was a bare 5xx."""


class RetryLater(DeliveryError):
    pass


class Permanent(DeliveryError):
    pass


class CredentialsError(DeliveryError):
    pass


def classify(code: int | None, *, http_status: int | None = None) -> type[DeliveryError]:
    """The family for a Graph error ``code``; with no code, a 5xx is Ambiguous, else Permanent."""
    if code is None:
        if http_status is None or http_status >= 500:
            return Ambiguous
        return Permanent
    if code == 130429:
        return Throttled
    if code == 131056:
        return PairRateLimited
    if code in RETRYABLE_CODES:
        return Retryable
    if code in RETRY_LATER_CODES:
        return RetryLater
    if code in CREDENTIAL_CODES:
        return CredentialsError
    return Permanent
