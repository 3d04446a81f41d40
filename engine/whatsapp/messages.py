"""What Herald asks the Cloud API to send, and the interface every sender implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class TemplateMessage:
    """One template send. ``to`` is E.164 with the ``+``; ``callback`` is Herald's
    outbound message id, sent as ``biz_opaque_callback_data`` and echoed by status webhooks.

    A user Herald knows only by business-scoped user id (a WhatsApp username user) has no
    ``to``: ``recipient`` carries the id, the request form Meta documents for them."""

    to: str | None
    template: str
    language: str
    components: list[dict[str, Any]] = field(default_factory=list)
    callback: str = ""
    recipient: str | None = None

    @property
    def address(self) -> dict[str, str]:
        return address(self.to, self.recipient)


@dataclass(frozen=True)
class TextMessage:
    """A free-form text (only inside the 24-hour window the recipient opened)."""

    to: str | None
    body: str
    recipient: str | None = None  # a business-scoped user id, for a user with no number

    @property
    def address(self) -> dict[str, str]:
        return address(self.to, self.recipient)

    def saying(self, body: str) -> TextMessage:
        return TextMessage(self.to, body, self.recipient)


def address(to: str | None, recipient: str | None) -> dict[str, str]:
    """The request's recipient fields: ``to`` a phone number, else ``recipient`` a user id (Meta:
    when both are sent, ``to`` wins, so only one is)."""
    if to:
        return {"to": to}
    if recipient:
        return {"recipient": recipient}
    raise ValueError("a message needs a phone number or a business-scoped user id")


class CloudApi(Protocol):
    """The Cloud API as Herald uses it: the real client and the sandbox both implement it."""

    async def send_template(self, message: TemplateMessage) -> str:
        """Send; returns the wamid. Raises a DeliveryError family member."""
        ...

    async def send_text(self, message: TextMessage) -> str:
        """Send free-form text; returns the wamid. Raises a DeliveryError family member."""
        ...

    async def templates(self) -> list[dict[str, Any]]:
        """Every message template of the business account (all pages)."""
        ...

    async def messaging_limit(self) -> str | None:
        """The business's messaging limit tier (``TIER_2K``, ``TIER_UNLIMITED``…), or None."""
        ...

    async def close(self) -> None: ...
