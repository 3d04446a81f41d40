"""Broadcasts asked for in words: "send promo to vip and gold tomorrow at 9".

    (send|broadcast|blast|schedule|draft) [the] <template words> [template|message]
        [to|for <tags…>] [<time> | now | as a draft]   (audience and time in either order)

Template words are joined with ``_`` (``diwali promo`` → ``diwali_promo``, as Meta
names them). No audience → a Question asking for the tags (with the rest kept as pending);
"schedule" with no time → a Question asking when; a template word that several
known templates start with → a Question listing them.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bot.grammar import messages, names
from bot.grammar.broadcasts import ACTIONS
from bot.grammar.commands import (
    BroadcastCreate,
    BroadcastFind,
    Command,
    PendingBroadcast,
    Question,
    Schedule,
    ScheduleKind,
)
from bot.grammar.context import Context
from bot.grammar.near import nearest
from bot.grammar.phrasing import CONNECTORS, NOW_PHRASES, audience, is_time_word, schedule
from bot.grammar.tokens import split, tokenize
from bot.grammar.zonewords import Ambiguous
from engine.errors import UsageError

_SEND = re.compile(r"(?P<verb>send|broadcast|blast|schedule|draft)\s+(?P<rest>.+)", re.IGNORECASE)
_SET_UP = re.compile(
    r"(?:set up|setup|create|make|prepare|queue up|queue)\s+(?:a\s+|an\s+|new\s+)*"
    r"(?:broadcast|campaign|blast)\s+(?:of|with|using)\s+",
    re.IGNORECASE,
)
_LEADING = frozenset({"the", "our", "a", "out", "an"})
_AFTER_TEMPLATE = frozenset({"template", "message", "broadcast", "campaign", "out", "of", "using"})
PRONOUNS = frozenset({"it", "this", "that", "them", "one"})
USAGE = messages.USAGE["broadcast"]


def send(said: str, clean: str, ctx: Context) -> Command | Question | None:  # noqa: PLR0911
    """The broadcast a "send …" sentence asks for, a Question, or None when it is not one.

    Raises UsageError for a template, tag or time that is named but wrong.
    """
    clean = _SET_UP.sub("send ", clean, count=1)
    match = _SEND.fullmatch(clean)
    if match is None:
        return None
    verb = match.group("verb").lower()
    args = split(tokenize(match.group("rest"), usage=USAGE), usage=USAGE)
    args.only(("tags", "name", "lang"), form="broadcast", usage=USAGE)
    split_words = _template_words([w.lower for w in args.words], ctx)
    if split_words is None:
        return None
    template_words, rest = split_words
    template_word = "_".join(w for w in template_words if w)
    audience_words, schedule_words = _split_audience(rest, ctx)
    if "tags" in args.options:
        audience_words.append(args.options["tags"].value)
    if not template_word and not audience_words:
        return None  # "send it now", "send to": not a broadcast of anything
    tags = audience(audience_words, ctx, usage=USAGE)
    name = args.options.get("name")
    lang = args.options.get("lang")
    template = names.template(template_word, names.NO_VOCABULARY, usage=USAGE) if template_word else None
    pending = PendingBroadcast(
        template=template,
        tags=tags,
        name=names.free_text(name.value, what="name", usage=USAGE, field="name") if name else None,
        language=names.language(lang.value, usage=USAGE) if lang else None,
    )
    known = ctx.vocabulary.templates
    if _a_broadcast(template, known, audience_words, schedule_words, ctx):  # "send the autumn sale now"
        return BroadcastFind(" ".join(template_words), action="send")
    try:
        if verb == "draft" and not schedule_words:
            pending = replace(pending, schedule=Schedule(ScheduleKind.DRAFT, ctx.tz))
        elif verb != "schedule" or schedule_words:
            pending = replace(pending, schedule=schedule(schedule_words, ctx))
    except Ambiguous as exc:
        if template is None or (known is not None and template not in known):
            raise
        return which_reading(exc, pending, ctx)
    if template is not None and known is not None and template not in known:
        return _which_template(template, pending, ctx)
    return complete_or_ask(pending, ctx)


def which_reading(error: Ambiguous, pending: PendingBroadcast, ctx: Context) -> Question:
    """ "send promo to vip at 9am CST": the broadcast at each reading of the time, to choose from.

    Raises ``error`` when the broadcast is still missing something else (its audience).
    """
    choices: list[Command] = []
    for reading in error.readings:
        filled = replace(pending, schedule=schedule(reading.split(), ctx)).complete()
        if not isinstance(filled, BroadcastCreate):
            raise error
        choices.append(filled)
    return Question(error.message, choices=tuple(choices))


def _template_words(words: list[str], ctx: Context) -> tuple[list[str], list[str]] | None:
    """The words naming the template and the rest (audience and time); None when the words
    after the verb cannot start a broadcast ("send it now", "send 12").
    """
    while words and words[0] in _LEADING:
        words = words[1:]
    if not words or words[0] in PRONOUNS or words[0] in ACTIONS or is_time_word(words[0], ctx):
        return None
    template_words: list[str] = []
    rest = words
    while rest and rest[0] not in ("to", "for") and not is_time_word(rest[0], ctx):
        if rest[0] not in _AFTER_TEMPLATE:
            template_words.append(rest[0].strip(","))
        rest = rest[1:]
    return _known_template_first(template_words, rest, ctx)


def time_only(said: str, clean: str, ctx: Context) -> Command | Question | None:
    """ "tomorrow at 9am IST" on its own: a broadcast at that time, asking what should go out."""
    words = said.split()
    if not words or not (is_time_word(words[0], ctx) or words[0][:1].isdigit()):
        return None
    try:
        when = schedule(words, ctx)
    except UsageError:
        return None
    if when.kind is not ScheduleKind.AT:
        return None
    return complete_or_ask(PendingBroadcast(template=None, schedule=when), ctx)


def _known_template_first(words: list[str], rest: list[str], ctx: Context) -> tuple[list[str], list[str]]:
    """ "send promo_autumn vip tomorrow": a known template followed by known tags, without "to"."""
    known, tags = ctx.vocabulary.templates, ctx.vocabulary.tags
    if known is None or tags is None or "_".join(words) in known:
        return words, rest
    for end in range(len(words) - 1, 0, -1):
        after = words[end:]
        if "_".join(words[:end]) in known and all(w.strip(",") in tags or w in CONNECTORS for w in after):
            return words[:end], ["to", *after, *rest]
    return words, rest


def _a_broadcast(
    template: str | None,
    known: frozenset[str] | None,
    audience_words: list[str],
    schedule_words: list[str],
    ctx: Context,
) -> bool:
    """An unknown template, no audience and at most "now": a broadcast named in words."""
    if template is None or known is None or template in known or audience_words:
        return False
    if names.template_candidates(template, ctx.vocabulary):
        return False
    return " ".join(schedule_words) in ("", *NOW_PHRASES)


def complete_or_ask(pending: PendingBroadcast, ctx: Context) -> BroadcastCreate | Question:
    """The broadcast when nothing is missing, else the Question asking for what is."""
    filled = pending.complete()
    if isinstance(filled, BroadcastCreate):
        return filled
    if filled.template is None:
        known = sorted(ctx.vocabulary.templates or ())
        return Question(messages.ask_template(list(filled.tags), known), pending=filled)
    if filled.missing == "tags":
        known = sorted(ctx.vocabulary.tags or ())
        return Question(messages.ask_audience(filled.template, known), pending=filled)
    return Question(messages.ask_time(filled.template), pending=filled)


def _split_audience(words: list[str], ctx: Context) -> tuple[list[str], list[str]]:
    """``[to vip and gold] tomorrow at 9`` → (``vip and gold``, ``tomorrow at 9``).

    The audience starts after the first ``to``/``for`` that is not followed by a
    time word, and runs until the next time word.
    """
    for i in range(len(words)):
        if _introduces(words, i, ctx):
            end = i + 1
            while end < len(words) and not (
                is_time_word(words[end], ctx) or _introduces_time(words, end, ctx)
            ):
                end += 1
            return words[i + 1 : end], words[:i] + words[end:]
    return [], words


def _introduces(words: list[str], i: int, ctx: Context) -> bool:
    """``to``/``for`` followed by something other than a time: the start of an audience."""
    return words[i] in ("to", "for") and i + 1 < len(words) and not is_time_word(words[i + 1], ctx)


def _introduces_time(words: list[str], i: int, ctx: Context) -> bool:
    """``for monday 9am``: a ``for`` that starts the time, ending the audience."""
    return words[i] == "for" and i + 1 < len(words) and is_time_word(words[i + 1], ctx)


def _which_template(word: str, pending: PendingBroadcast, ctx: Context) -> Question:
    """Asks which template was meant ("send promo" with promo_autumn and promo_winter known).

    Raises UsageError (with the closest name) when no known template fits, or when
    the broadcast is still missing its audience or time.
    """
    candidates = names.template_candidates(word, ctx.vocabulary)
    if not candidates:
        raise UsageError(
            messages.unknown_template(word),
            usage=USAGE,
            suggestion=nearest(word, ctx.vocabulary.templates or ()),
            field="template",
        )
    choices: list[Command] = []
    for template in candidates:
        filled = replace(pending, template=template).complete()
        if not isinstance(filled, BroadcastCreate):
            raise UsageError(
                messages.unknown_template(word),
                usage=USAGE,
                suggestion=candidates[0],
                field="template",
            )
        choices.append(filled)
    return Question(messages.ask_which_template(word), choices=tuple(choices))
