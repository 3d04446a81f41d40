"""Cloud API errors, classified by Graph error ``code`` (never by HTTP status).

    DeliveryError                       a send did not go through
    ├── Retryable                       not accepted; try again soon
    │   ├── Throttled                   130429: the sender number is over its rate; slow down
    │   ├── PairRateLimited             131056: too many to this recipient; back off for them alone
    │   └── Ambiguous                   timeout, dropped connection, bare 5xx: Meta MAY have
    │                                   accepted it; reconcile before any resend
    ├── RetryLater                      131049: per-user marketing limit; retry after 24 h
    ├── TemplateUnavailable             132015 paused, 132016 disabled by Meta: the template
    │                                   stops everywhere; the recipient waits, never failed
    ├── Permanent                       fix something first; never retried
    └── CredentialsError                0, 190: the token is bad; stop everything and alert

    Invalid (engine.errors)
    ├── ParameterError                  a template's parameters cannot be filled
    │   ├── MissingParameter            this contact has no value: skip them, with the reason
    │   ├── MappingMismatch             the mapping can never fit the template: refuse up front
    │   └── UnsupportedParameter        a parameter kind Herald does not fill (header media)
    └── MalformedWebhook                a webhook body that is not Meta's format

Meta says to build error handling on ``code`` and ``details``; HTTP statuses
for the same code differ between sources (130429 is 400 in some, 429 in
others), so the status only matters when there is no Graph error body.

This package is the only place that knows Graph error codes.
"""

from __future__ import annotations

from engine.errors import HeraldError, Invalid

RETRYABLE_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131056, 131057})
RETRY_LATER_CODES = frozenset({131049})
TEMPLATE_STATUS_CODES = {132015: "PAUSED", 132016: "DISABLED"}  # the template's status Meta implies
CREDENTIAL_CODES = frozenset({0, 190})

# Short human titles for the funnel's "failed_reasons" keys. Meta's own titles
# "will eventually be deprecated" and vary in wording between the send response
# and the status webhook, so the funnel uses these stable ones instead.
TITLES: dict[int, str] = {
    0: "Access token invalid",
    1: "Unknown API error",
    2: "API service unavailable",
    4: "App call rate limit reached",
    10: "Permission denied",
    100: "Invalid parameter",
    190: "Access token expired",
    200: "Permission error",
    368: "Account restricted by policy",
    470: "Outside the 24-hour window",
    80007: "Business account rate limit reached",
    130429: "Throughput limit reached",
    130472: "Recipient in a marketing experiment",
    131000: "Unknown send error",
    131005: "Permission not granted",
    131008: "Required parameter missing",
    131009: "Parameter value invalid",
    131016: "Service temporarily unavailable",
    131021: "Sender and recipient are the same",
    131026: "Message undeliverable",
    131031: "Business account locked",
    131042: "Payment problem",
    131047: "Outside the 24-hour window",
    131048: "Spam rate limit",
    131049: "Per-user marketing limit",
    131050: "Recipient stopped marketing messages",
    131051: "Unsupported message type",
    131052: "Media download error",
    131053: "Media upload error",
    131056: "Pair rate limit",
    131057: "Account in maintenance mode",
    131062: "Username users not supported for this message",
    131063: "Marketing disabled on Cloud API",
    131064: "Messaging limit for template misuse",
    132000: "Parameter count mismatch",
    132001: "Template missing or not approved",
    132005: "Translated text too long",
    132007: "Template violates policy",
    132012: "Parameter format invalid",
    132015: "Template paused",
    132016: "Template disabled",
    132018: "Template parameter invalid",
    133010: "Phone number not registered",
    135000: "Generic user error",
}


def title_of(code: int | None) -> str | None:
    """The stable human title for a Graph error ``code``, or None when the table lacks it."""
    if code is None:
        return None
    if code in TITLES:
        return TITLES[code]
    if 200 <= code <= 299:
        return TITLES[200]
    return None


def describe_failure(code: int | None, title: str = "") -> str:
    """How the funnel names a failure: ``"131026 Message undeliverable"``.

    Uses the table's title when it knows ``code``, else Meta's ``title``,
    else "Unknown error"; with no code at all, just the title.
    """
    known = title_of(code)
    text = known or title.strip() or "Unknown error"
    return text if code is None else f"{code} {text}"


class DeliveryError(HeraldError):
    """A send failed. ``error_code`` is the Graph error code (None for transport failures)."""

    code = "whatsapp"
    status = 502  # to an API caller, WhatsApp's refusal is a bad gateway, not bad input

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
        return describe_failure(self.error_code, self.title)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.error_code!r}, title={self.title!r}, "
            f"http_status={self.http_status!r}, fbtrace_id={self.fbtrace_id!r})"
        )


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


class TemplateUnavailable(DeliveryError):
    """Meta refused the send because of the template itself: paused (132015) or disabled (132016)."""

    @property
    def template_status(self) -> str:
        """PAUSED or DISABLED: what Meta's answer says the template is now."""
        return TEMPLATE_STATUS_CODES.get(self.error_code or 0, "PAUSED")


class CredentialsError(DeliveryError):
    pass


def classify(code: int | None, *, http_status: int | None = None) -> type[DeliveryError]:
    """The family for a Graph error ``code``.

    With no code (no Graph error body): a 5xx or no status is Ambiguous, a
    bare 429 (a proxy in front of Meta) is Throttled, anything else Permanent.
    """
    if code is None:
        if http_status is None or http_status >= 500:
            return Ambiguous
        return Throttled if http_status == 429 else Permanent
    return _FAMILIES.get(code, Permanent)


_FAMILIES: dict[int, type[DeliveryError]] = {
    **dict.fromkeys(RETRYABLE_CODES, Retryable),
    **dict.fromkeys(RETRY_LATER_CODES, RetryLater),
    **dict.fromkeys(CREDENTIAL_CODES, CredentialsError),
    **dict.fromkeys(TEMPLATE_STATUS_CODES, TemplateUnavailable),
    130429: Throttled,
    131056: PairRateLimited,
}


class ParameterError(Invalid):
    """A template's parameters cannot be filled. ``parameter`` names the one at fault."""

    code = "template_parameters"

    def __init__(self, message: str, *, parameter: str | None = None, hint: str | None = None):
        super().__init__(message, field="params", hint=hint)
        self.parameter = parameter


class MissingParameter(ParameterError):
    """This contact has no value for ``parameter``: skip them (``reason`` is the skip reason)."""

    code = "missing_parameter"

    def __init__(self, parameter: str, *, hint: str | None = None) -> None:
        super().__init__(
            f"the contact has no value for template parameter {{{{{parameter}}}}}.",
            parameter=parameter,
            hint=hint,
        )

    @property
    def name(self) -> str:
        """The template parameter without a value: ``"city"`` or ``"2"``."""
        return self.parameter or ""

    @property
    def reason(self) -> str:
        """The funnel's skip reason: ``"missing_parameter"``."""
        return "missing_parameter"


class MappingMismatch(ParameterError):
    """The parameter mapping can never fit the template, whatever the contact."""

    code = "parameter_mapping"


class UnsupportedParameter(ParameterError):
    """The template needs a parameter kind Herald does not fill (e.g. a header image)."""

    code = "unsupported_parameter"


class MalformedWebhook(Invalid):
    """A webhook body that is not in Meta's format; the message says where it went wrong."""

    code = "malformed_webhook"
    status = 400
