"""What a Meta webhook tells Herald, as typed events (``engine.whatsapp.webhook`` reads them).

A user is identified by a phone number, a business-scoped user id (BSUID,
``US.13491208655302741918``), or both: since 2026 a user who adopts a
WhatsApp username may have their number withheld, so ``phone`` is None and
``user_id`` is set. Times are aware UTC; phones are E.164.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple

from engine.whatsapp.errors import describe_failure
from storage.statuses import Pricing

Status = Literal["sent", "delivered", "read", "failed"]
InboundKind = Literal["text", "button", "interactive", "other"]


class StatusError(NamedTuple):
    """One entry of a failed status's ``errors[]``: ``(code, title, details)``."""

    code: int
    title: str
    details: str

    @property
    def reason(self) -> str:
        """The funnel's name for it: ``"131026 Message undeliverable"``."""
        return describe_failure(self.code, self.title)


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """The lifecycle of a message Herald sent. ``recipient`` is E.164, or None for a username
    user whose number Meta withholds (``recipient_user_id`` then names them)."""

    wamid: str
    status: Status
    at: datetime
    recipient: str | None
    callback: str | None
    errors: tuple[StatusError, ...] = ()
    phone_number_id: str | None = None
    recipient_user_id: str | None = None
    pricing: Pricing | None = None


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """A message a user sent. ``text`` is the body, the button's text or the reply's title;
    ``payload`` the button payload or the reply id; ``context`` the wamid replied to."""

    wamid: str
    phone: str | None
    kind: InboundKind
    text: str
    at: datetime
    name: str | None = None
    payload: str | None = None
    context: str | None = None
    phone_number_id: str | None = None
    user_id: str | None = None
    username: str | None = None


@dataclass(frozen=True, slots=True)
class IdentityChange:
    """A user changed number (``user_changed_number``: ``old`` → ``new`` phones) or business-scoped
    user id (``user_changed_user_id``: ``old`` → ``new`` user ids). One person, not two."""

    kind: Literal["number", "user_id"]
    old: str
    new: str
    at: datetime


@dataclass(frozen=True, slots=True)
class UserIdentity:
    """A webhook named a user's business-scoped user id with their phone or username: a contact
    known by the phone learns the id, one known by the id learns the username."""

    phone: str | None
    user_id: str
    username: str | None = None


@dataclass(frozen=True, slots=True)
class MarketingPreferenceEvent:
    """The user stopped or resumed marketing messages in WhatsApp's settings."""

    phone: str | None
    value: Literal["stop", "resume"]
    at: datetime
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class TemplateStatusEvent:
    """A template changed status (APPROVED, PAUSED, REINSTATED, DISABLED, FLAGGED…), upper-cased.
    ``other_info`` is Meta's title for a pause (FIRST_PAUSE, SECOND_PAUSE, ...)."""

    name: str
    language: str
    status: str
    reason: str | None
    meta_id: str | None
    at: datetime | None = None
    other_info: str | None = None


@dataclass(frozen=True, slots=True)
class TemplateCategoryEvent:
    """Meta reclassified a template (``template_category_update``)."""

    name: str
    language: str
    meta_id: str | None
    category: str
    previous: str | None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TemplateQualityEvent:
    """A template's quality rating changed (``message_template_quality_update``)."""

    name: str
    language: str
    meta_id: str | None
    quality: str  # GREEN, YELLOW, RED, UNKNOWN
    previous: str | None
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MessagingLimitEvent:
    """The business portfolio's messaging limit (unique users a rolling 24 h; None = unlimited),
    from ``business_capability_update`` or ``phone_number_quality_update``."""

    limit: int | None
    at: datetime | None
    source: str


@dataclass(frozen=True, slots=True)
class NumberQualityEvent:
    """The business number's quality or throughput changed (``phone_number_quality_update``):
    FLAGGED, UNFLAGGED, DOWNGRADE, UPGRADE, THROUGHPUT_UPGRADE, ONBOARDING ..."""

    event: str
    at: datetime | None
    display_phone_number: str | None = None


@dataclass(frozen=True, slots=True)
class AccountEvent:
    """Something about the WhatsApp Business account (``account_update``): a restriction, a
    violation, a ban, a pricing tier... ``detail`` keeps Meta's object for the alert."""

    event: str
    at: datetime | None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SystemErrorEvent:
    """App- or account-level errors Meta reports outside any one message."""

    errors: tuple[StatusError, ...]


@dataclass(frozen=True, slots=True)
class Ignored:
    """An item Herald does not act on, and why (``reason`` is a short, fixed label for the
    metric; ``detail`` says which item). Never an error: Meta's batch stays applied."""

    reason: str
    field: str = "messages"
    detail: str = ""


Event = (
    StatusEvent
    | InboundEvent
    | IdentityChange
    | UserIdentity
    | MarketingPreferenceEvent
    | TemplateStatusEvent
    | TemplateCategoryEvent
    | TemplateQualityEvent
    | MessagingLimitEvent
    | NumberQualityEvent
    | AccountEvent
    | SystemErrorEvent
    | Ignored
)
