"""Changes read from plain words are shown back and done only on a yes.

"tag +91 98123 45678 as vip" is not done when it is read: it becomes a Question
with the one change as its only choice ("Tag +91••••5678 with `vip`? Say yes to
go ahead…"), so a misreading costs a "no", never a wrong change. The formal
command language acts as it always has; a broadcast is previewed and confirmed
on its own.
"""

from __future__ import annotations

from functools import singledispatch

from bot.grammar import messages
from bot.grammar.commands import (
    BroadcastAction,
    Command,
    ContactAdd,
    ContactOptOut,
    ContactTag,
    ContactUntag,
    Question,
    SequenceAction,
    SequenceEnroll,
    TemplateSync,
    is_change,
    previews,
)
from bot.grammar.formal import formal
from engine.phones import mask_phone


def settled(found: Command | Question) -> Command | Question:
    """``found`` as it may be acted on: a change that is not previewed becomes a proposal."""
    if isinstance(found, Question) or not is_change(found) or previews(found):
        return found
    try:
        return proposal(found)
    except ValueError:  # no words for it: the face resolves it first (a broadcast by name)
        return found


def proposal(command: Command, *, label: str | None = None) -> Question:
    """The yes/no question that shows ``command`` before it is done. ``label`` names its
    broadcast ("Diwali promo"). Raises ValueError for a command with no description.
    """
    verb: str = command.action if isinstance(command, BroadcastAction) else ""
    verb = "optout" if isinstance(command, ContactOptOut) else verb
    text = messages.proposal(describe(command, label), formal(command), messages.consequence(verb))
    return Question(text, choices=(command,), confirm=True)


@singledispatch
def describe(command: Command, label: str | None = None) -> str:
    """What ``command`` does, in words, with phones masked."""
    raise ValueError(f"no words for {type(command).__name__}")


@describe.register
def _add(command: ContactAdd, label: str | None = None) -> str:
    return messages.propose_add(mask_phone(command.phone), command.name, list(command.tags))


@describe.register
def _tag(command: ContactTag, label: str | None = None) -> str:
    return messages.propose_tag(mask_phone(command.phone), list(command.tags))


@describe.register
def _untag(command: ContactUntag, label: str | None = None) -> str:
    return messages.propose_untag(mask_phone(command.phone), list(command.tags))


@describe.register
def _opt_out(command: ContactOptOut, label: str | None = None) -> str:
    return messages.propose_opt_out(mask_phone(command.phone))


@describe.register
def _enroll(command: SequenceEnroll, label: str | None = None) -> str:
    return messages.propose_enroll(mask_phone(command.phone), command.sequence)


@describe.register
def _sequence(command: SequenceAction, label: str | None = None) -> str:
    return messages.propose_sequence(command.action, command.sequence)


@describe.register
def _broadcast(command: BroadcastAction, label: str | None = None) -> str:
    return messages.propose_broadcast(command.action, command.broadcast_id, label)


@describe.register
def _sync(command: TemplateSync, label: str | None = None) -> str:
    return messages.propose_sync()
