"""What every Herald process attaches to the engine so the chat faces hear about broadcasts.

Sends, statuses and due schedules happen in the server, the workers, the
scheduler and the shell alike, so each of them reports to Slack (live
funnels, alerts, the digest) and to WhatsApp admins (their commands, the
summaries of broadcasts they started).
"""

from __future__ import annotations

from bot.container import Herald
from bot.faces import whatsapp


def attach(herald: Herald, *, slack: bool = True) -> None:
    """``slack=False`` when the caller connects Slack itself (the server mounts it with its routes)."""
    if slack and herald.settings.slack_enabled:
        from bot.slack.outbound import connect  # noqa: PLC0415 - bolt and slack_sdk load only when Slack is on

        connect(herald)
    whatsapp.attach(herald)
