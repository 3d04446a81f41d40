"""What Herald asks the Cloud API to send, and the interface every sender implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class TemplateMessage:
    """One template send. ``to`` is E.164 with the ``+``; ``callback`` is Herald's
    outbound message id, sent as ``biz_opaque_callback_data`` and echoed by status webhooks."""

    to: str
    template: str
    language: str
    components: list[dict[str, Any]] = field(default_factory=list)
    callback: str = ""


@dataclass(frozen=True)
class TextMessage:
    """A free-form text (only inside the 24-hour window the recipient opened)."""

    to: str
    body: str


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

    async def close(self) -> None: ...
