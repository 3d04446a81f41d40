"""How the engine tells the faces what happened: a small interface, called from engine threads.

The Slack face renders these as a live funnel and alerts; the WhatsApp-admin
face as messages to the admin who started the broadcast; tests record them.
Implementations must return quickly (hand work to their own loop or queue).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from engine import views


class Notifier(Protocol):
    def broadcast_started(self, broadcast: views.Broadcast) -> None: ...

    def broadcast_progress(self, broadcast: views.Broadcast) -> None:
        """The funnel moved (sends recorded or statuses arrived)."""
        ...

    def broadcast_completed(self, broadcast: views.Broadcast) -> None:
        """Every recipient is sent, failed or skipped; called once per broadcast."""
        ...

    def alert(self, kind: str, message: str, broadcast: Mapping[str, Any] | None = None) -> None:
        """Something people must act on: a paused template, bad credentials, a missed schedule.

        ``broadcast`` is the broadcast concerned (at least its ``id``, ``name`` and
        ``notify``), or None for an account-wide problem.
        """
        ...


class FanOut:
    """Several notifiers as one; a failing notifier never stops the others."""

    def __init__(self, *notifiers: Notifier) -> None:
        self.notifiers = list(notifiers)

    def add(self, notifier: Notifier) -> None:
        self.notifiers.append(notifier)

    def _each(self, method: str, *args: Any) -> None:
        import logging  # noqa: PLC0415 - only needed on the failure path

        for notifier in self.notifiers:
            try:
                getattr(notifier, method)(*args)
            except Exception:
                logging.getLogger("herald.notify").exception("notifier %s failed", method)

    def broadcast_started(self, broadcast: views.Broadcast) -> None:
        self._each("broadcast_started", broadcast)

    def broadcast_progress(self, broadcast: views.Broadcast) -> None:
        self._each("broadcast_progress", broadcast)

    def broadcast_completed(self, broadcast: views.Broadcast) -> None:
        self._each("broadcast_completed", broadcast)

    def alert(self, kind: str, message: str, broadcast: Mapping[str, Any] | None = None) -> None:
        self._each("alert", kind, message, broadcast)
