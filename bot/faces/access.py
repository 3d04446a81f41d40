"""Who may do what: anyone may read; only admins change, send or schedule anything.

The rule is by command, for every face: Slack checks ``SLACK_ADMINS``, WhatsApp
``WHATSAPP_ADMINS``, and the local shell is an admin (it already holds the
database).
"""

from __future__ import annotations

from bot.grammar import (
    BroadcastAction,
    BroadcastFind,
    BroadcastList,
    Command,
    ContactCount,
    Help,
    SequenceAction,
    SequenceList,
    Stats,
    TemplateList,
)

READ_ONLY: tuple[type[Command], ...] = (
    BroadcastList,
    BroadcastFind,
    ContactCount,
    Help,
    SequenceList,
    Stats,
    TemplateList,
)
READ_VERBS = frozenset({"show", "stats"})


def needs_admin(command: Command) -> bool:
    """True for every command that changes, sends or schedules something."""
    if isinstance(command, READ_ONLY):
        return False
    if isinstance(command, BroadcastAction | SequenceAction):
        return command.action not in READ_VERBS
    return True
