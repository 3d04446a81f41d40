"""Who may do what: anyone may read; only admins change, send or schedule anything.

The rule is by command, for every face: Slack checks ``SLACK_ADMINS``, WhatsApp
``WHATSAPP_ADMINS``, and the local shell is an admin (it already holds the
database). Which commands change something is the grammar's to say
(``bot.grammar.commands.is_change``).
"""

from __future__ import annotations

from bot.grammar import Command
from bot.grammar.commands import is_change


def needs_admin(command: Command) -> bool:
    """True for every command that changes, sends or schedules something."""
    return is_change(command)
