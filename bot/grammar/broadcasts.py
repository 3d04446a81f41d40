"""The ``broadcast`` command: creating one, and acting on one by id.

    broadcast <template> tags:<a,b> [at <time> | now | draft] [name:"…"] [lang:<code>]
    broadcast list | show <id> | send <id> | cancel <id> | stats <id> | pause <id> | resume <id>

The words ``list show send cancel stats pause resume help`` are subcommands, so
a template with one of those names cannot be broadcast from chat (Meta template
names of that shape are unlikely; the API still can).
"""

from __future__ import annotations

import re
from typing import cast

from bot.grammar import messages, names
from bot.grammar.commands import (
    BroadcastAction,
    BroadcastCreate,
    BroadcastList,
    BroadcastVerb,
    Command,
    Help,
    Schedule,
    ScheduleKind,
)
from bot.grammar.context import Context
from bot.grammar.times import read_time
from bot.grammar.tokens import Args, Token
from engine.errors import UsageError
from engine.suggest import closest

ACTIONS = ("list", "show", "send", "cancel", "stats", "pause", "resume")
HELP_WORDS = frozenset({"help", "-h", "--help", "?"})
SCHEDULE_WORDS = frozenset({"at", "on", "now", "draft", "in"})
_FILLERS = frozenset({"to", "for", "and", "&", "+"})
_ID = re.compile(r"#?(?P<id>[0-9]{1,18})", re.ASCII)
CREATE_USAGE = messages.USAGE["broadcast"]


def broadcast(args: Args, ctx: Context) -> Command:
    """The command ``broadcast …`` stands for (``args`` are the words after ``broadcast``).

    Raises UsageError for anything that does not read as one of the forms.
    """
    if not args.words:
        if args.options:
            raise UsageError(messages.needs_template(), usage=CREATE_USAGE, field="template")
        return Help("broadcast")
    head = args.words[0]
    if head.lower in HELP_WORDS or args.words[-1].lower in HELP_WORDS:
        return Help("broadcast")
    if head.lower in ACTIONS and not head.quoted:
        return _action(head.lower, args)
    _refuse_mistyped_action(head, args, ctx)
    return _create(args, ctx)


def read_schedule(words: list[str], ctx: Context) -> Schedule:
    """The schedule ``words`` name: nothing (``now``, assumed), ``now``, ``draft``,
    ``at <time>`` or a bare time phrase. Raises UsageError like ``read_time``.
    """
    if not words:
        return Schedule(ScheduleKind.NOW, ctx.tz, explicit=False)
    lowered = [w.lower() for w in words]
    if lowered in (["now"], ["at", "now"], ["right", "now"]):
        return Schedule(ScheduleKind.NOW, ctx.tz)
    if lowered == ["draft"]:
        return Schedule(ScheduleKind.DRAFT, ctx.tz)
    trailing = lowered[-1] in ("now", "draft") and lowered[-2:] != ["from", "now"]
    if lowered[0] in ("now", "draft") or trailing:
        raise UsageError(messages.schedule_conflict(), usage=CREATE_USAGE, field="schedule")
    if lowered[0] == "at":
        words = words[1:]
        if not words:
            raise UsageError(messages.needs_time_after("at"), usage=CREATE_USAGE, field="time")
    elif lowered == ["on"]:
        raise UsageError(messages.needs_time_after("on"), usage=CREATE_USAGE, field="time")
    phrase = " ".join(words)
    moment = read_time(phrase, now=ctx.now, tz=ctx.tz)
    return Schedule(ScheduleKind.AT, moment.timezone, at=moment.at, written=phrase)


def _action(verb: str, args: Args) -> Command:
    form = f"broadcast {verb}"
    usage = messages.USAGE[form]
    args.only((), form=form, usage=usage)
    if verb == "list":
        if len(args.words) > 1:
            raise UsageError(messages.unexpected_words(form, args.text(1)), usage=usage)
        return BroadcastList()
    if len(args.words) < 2:
        raise UsageError(messages.needs_id(form), usage=usage, field="id")
    if len(args.words) > 2:
        raise UsageError(messages.unexpected_words(form, args.text(2)), usage=usage)
    return BroadcastAction(cast(BroadcastVerb, verb), broadcast_id(args.words[1].text, form=form))


def broadcast_id(word: str, *, form: str) -> int:
    """``12`` or ``#12`` → 12. Raises UsageError for anything else."""
    match = _ID.fullmatch(word)
    if not match or int(match.group("id")) == 0:
        raise UsageError(messages.bad_id(word, form), usage=messages.USAGE[form], field="id")
    return int(match.group("id"))


def _refuse_mistyped_action(head: Token, args: Args, ctx: Context) -> None:
    """``broadcast lsit`` is a mistyped subcommand, not a template, unless it could be one:
    it is a known template, or the command has an audience (``tags:``).
    """
    templates = ctx.vocabulary.templates
    if head.quoted or "tags" in args.options:
        return
    if templates is not None and head.lower in templates:
        return
    guess = closest(head.lower, ACTIONS)
    if guess is None:
        return
    raise UsageError(
        messages.unknown_subcommand("broadcast", head.text),
        usage=f"{CREATE_USAGE}\n       {messages.BROADCAST_ACTIONS_USAGE}",
        suggestion=f"broadcast {guess}",
    )


def _create(args: Args, ctx: Context) -> BroadcastCreate:
    args.only(("tags", "name", "lang"), form="broadcast", usage=CREATE_USAGE)
    template = names.template(args.words[0].text, ctx.vocabulary, usage=CREATE_USAGE)
    rest = [w.text for w in args.words[1:]]
    tags_option = args.options.get("tags")
    if tags_option is None:
        raise UsageError(
            messages.needs_audience(template),
            usage=CREATE_USAGE,
            suggestion=_with_tags(template, rest),
            field="tags",
        )
    tags = names.tags([tags_option.value], usage=CREATE_USAGE, check=ctx.vocabulary)
    schedule = read_schedule(rest, ctx)
    name_option = args.options.get("name")
    lang_option = args.options.get("lang")
    return BroadcastCreate(
        template=template,
        tags=tags,
        schedule=schedule,
        name=(
            names.free_text(name_option.value, what="name", usage=CREATE_USAGE, field="name")
            if name_option
            else None
        ),
        language=names.language(lang_option.value, usage=CREATE_USAGE) if lang_option else None,
    )


def _with_tags(template: str, rest: list[str]) -> str | None:
    """``broadcast promo vip at 9am`` → the same with ``tags:vip``, when the words read as tags."""
    lead: list[str] = []
    for word in rest:
        if word.lower() in SCHEDULE_WORDS:
            break
        lead.append(word)
    candidates = [w for w in lead if w.lower() not in _FILLERS]
    if not candidates:
        return None
    try:
        tags = names.tags(candidates, usage=CREATE_USAGE)
    except UsageError:
        return None
    after = rest[len(lead) :]
    return messages.mask_numbers(" ".join(["broadcast", template, "tags:" + ",".join(tags), *after]))
