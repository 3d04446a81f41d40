"""A change as the formal command that does it: ``ContactTag(+91…, vip)`` → ``contacts tag +91… vip``.

A face that keeps a change waiting for a confirmation as text (the WhatsApp
admins' YES, which may be answered in another process) keeps this form, and
``parse`` reads it back into the same command. The form shows the full phone
number: pass it through ``messages.mask_numbers`` before showing it to anyone.
"""

from __future__ import annotations

from functools import singledispatch

from bot.grammar.commands import (
    BroadcastAction,
    Command,
    ContactAdd,
    ContactOptOut,
    ContactTag,
    ContactUntag,
    SequenceAction,
    SequenceEnroll,
    TemplateSync,
)


@singledispatch
def formal(command: Command) -> str:
    """The formal command ``command`` stands for. Raises ValueError for a command with none."""
    raise ValueError(f"{type(command).__name__} has no formal form")


@formal.register
def _broadcast(command: BroadcastAction) -> str:
    return f"broadcast {command.action} {command.broadcast_id}"


@formal.register
def _sequence(command: SequenceAction) -> str:
    return f"sequence {command.action} {quoted(command.sequence)}"


@formal.register
def _enroll(command: SequenceEnroll) -> str:
    return f"sequence enroll {quoted(command.sequence)} {command.phone}"


@formal.register
def _add(command: ContactAdd) -> str:
    parts = ["contacts add", command.phone]
    if command.name:
        parts.append(f"name:{quoted(command.name, always=True)}")
    if command.tags:
        parts.append("tags:" + ",".join(command.tags))
    return " ".join(parts)


@formal.register
def _tag(command: ContactTag) -> str:
    return f"contacts tag {command.phone} {' '.join(command.tags)}"


@formal.register
def _untag(command: ContactUntag) -> str:
    return f"contacts untag {command.phone} {' '.join(command.tags)}"


@formal.register
def _opt_out(command: ContactOptOut) -> str:
    return f"contacts optout {command.phone}"


@formal.register
def _sync(command: TemplateSync) -> str:
    return "templates sync"


def quoted(text: str, *, always: bool = False) -> str:
    """``text`` as one word of a command: as is, or quoted when it has spaces, quotes or a ``:``.

    Raises ValueError for text holding both kinds of quote (no quoting can carry it).
    """
    plain = text and not any(c.isspace() or c in "\"':=" for c in text)
    if plain and not always:
        return text
    for quote in "\"'":
        if quote not in text:
            return f"{quote}{text}{quote}"
    raise ValueError("text with both kinds of quote cannot be one word")
