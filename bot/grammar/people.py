"""The ``contacts`` and ``sequence`` commands: the forms that name people and drips.

    contacts add <phone> [name:"…"] [tags:a,b] | tag <phone> <tag…> | untag <phone> <tag…>
             | optout <phone> | count tags:<a,b>
    sequence list | show <name> | activate <name> | pause <name> | enroll <name> <phone>

A phone number may be written with spaces (``+91 98123 45678``); ``enroll`` also
takes the number first.
"""

from __future__ import annotations

from typing import cast

from bot.grammar import messages, names
from bot.grammar.broadcasts import HELP_WORDS
from bot.grammar.commands import (
    Command,
    ContactAdd,
    ContactCount,
    ContactOptOut,
    ContactTag,
    ContactUntag,
    Help,
    SequenceAction,
    SequenceEnroll,
    SequenceList,
    SequenceVerb,
)
from bot.grammar.context import Context
from bot.grammar.phones import looks_like_phone, take_phone
from bot.grammar.tokens import Args
from engine.errors import UsageError
from engine.suggest import closest

CONTACT_ACTIONS = {
    "add": "add",
    "tag": "tag",
    "untag": "untag",
    "optout": "optout",
    "opt-out": "optout",
    "opt_out": "optout",
    "count": "count",
}
_CONTACT_OPTIONS = {"add": ("name", "tags"), "tag": ("tags",), "untag": ("tags",), "optout": ()}
SEQUENCE_ACTIONS = ("list", "show", "activate", "pause", "enroll")
_SEQUENCE_ALIASES = {"enrol": "enroll"}


def contacts(args: Args, ctx: Context) -> Command:
    """The command ``contacts …`` stands for. Raises UsageError when it does not read."""
    verb = _verb(args, "contacts", CONTACT_ACTIONS)
    if verb is None:
        return Help("contacts")
    form = f"contacts {verb}"
    usage = messages.USAGE[form]
    if verb == "count":
        args.only(("tags",), form=form, usage=usage)
        raw = [w.text for w in args.words[1:]]
        if "tags" in args.options:
            raw.append(args.options["tags"].value)
        found = names.tags(raw, usage=usage, check=ctx.vocabulary)
        if not found:
            raise UsageError(messages.needs_tags(form), usage=usage, field="tags")
        return ContactCount(found)
    args.only(_CONTACT_OPTIONS[verb], form=form, usage=usage)
    phone, end = take_phone(args.words, 1, form=form, usage=usage)
    rest = [w.text for w in args.words[end:]]
    if verb == "add":
        if rest:
            raise UsageError(
                messages.name_outside_option(" ".join(rest)),
                usage=usage,
                suggestion=messages.mask_numbers(f'name:"{" ".join(rest)}"'),
                field="name",
            )
        name = args.options.get("name")
        tags_option = args.options.get("tags")
        return ContactAdd(
            phone=phone,
            name=names.free_text(name.value, what="name", usage=usage, field="name") if name else None,
            tags=names.tags([tags_option.value], usage=usage) if tags_option else (),
        )
    if verb == "optout":
        if rest:
            raise UsageError(messages.unexpected_words(form, " ".join(rest)), usage=usage)
        return ContactOptOut(phone=phone)
    if "tags" in args.options:
        rest.append(args.options["tags"].value)
    tags = names.tags(rest, usage=usage)
    if not tags:
        raise UsageError(messages.needs_tags(form), usage=usage, field="tags")
    return ContactTag(phone=phone, tags=tags) if verb == "tag" else ContactUntag(phone=phone, tags=tags)


def sequence(args: Args, ctx: Context) -> Command:
    """The command ``sequence …`` stands for. Raises UsageError when it does not read."""
    verb = _verb(args, "sequence", {**{a: a for a in SEQUENCE_ACTIONS}, **_SEQUENCE_ALIASES})
    if verb is None:
        return Help("sequence")
    form = f"sequence {verb}"
    usage = messages.USAGE[form]
    args.only((), form=form, usage=usage)
    rest = list(args.words[1:])
    if verb == "list":
        if rest:
            raise UsageError(messages.unexpected_words(form, args.text(1)), usage=usage)
        return SequenceList()
    if not rest:
        raise UsageError(messages.needs_sequence(form), usage=usage, field="sequence")
    if verb != "enroll":
        if len(rest) > 1:
            raise UsageError(messages.one_name_only(form), usage=usage, field="sequence")
        name = names.sequence(rest[0].text, ctx.vocabulary, usage=usage)
        return SequenceAction(cast(SequenceVerb, verb), name)
    # "enroll <name> <phone>", or "enroll <phone> <name>" when the number comes first
    if looks_like_phone(rest[0]) and not looks_like_phone(rest[-1]):
        phone, end = take_phone(rest, 0, form=form, usage=usage)
        name_words = rest[end:]
    else:
        name_words = rest[:1]
        phone, end = take_phone(rest, 1, form=form, usage=usage)
        if end < len(rest):
            extra = " ".join(w.text for w in rest[end:])
            raise UsageError(messages.unexpected_words(form, extra), usage=usage)
    if len(name_words) != 1:
        raise UsageError(messages.one_name_only(form), usage=usage, field="sequence")
    return SequenceEnroll(names.sequence(name_words[0].text, ctx.vocabulary, usage=usage), phone)


def _verb(args: Args, command: str, verbs: dict[str, str]) -> str | None:
    """The subcommand (canonical spelling); None when help was asked for or nothing was said.

    Raises UsageError for a word that is no subcommand, suggesting the closest.
    """
    if not args.words:
        if args.options:
            raise UsageError(messages.needs_subcommand(command), usage=messages.USAGE[command])
        return None
    head = args.words[0].lower
    if head in HELP_WORDS or args.words[-1].lower in HELP_WORDS:
        return None
    verb = verbs.get(head)
    if verb is None or args.words[0].quoted:
        guess = closest(head, verbs)
        raise UsageError(
            messages.unknown_subcommand(command, args.words[0].text),
            usage=messages.USAGE[command],
            suggestion=f"{command} {verbs[guess]}" if guess else None,
        )
    return verb
