"""Short replies in a conversation: yes, no, and answers to a Question Herald asked.

    yes / confirm / go ahead / 👍           → Confirm  (or the only choice of a Question)
    no / cancel / never mind               → Cancel
    2 / the second one / option 2          → that choice of the Question
    pause / the sequence / promo_winter    → the one choice that word picks out
    vip and gold  (after "who should get promo?")    → the pending broadcast, completed
    tomorrow 9am  (after "when should promo go out?") → the pending broadcast, completed

An answer that does not read as one gives None, and the text is read on its own.
"""

from __future__ import annotations

import re
from dataclasses import replace

from bot.grammar import messages, names
from bot.grammar.commands import (
    BroadcastAction,
    BroadcastCreate,
    Cancel,
    Command,
    Confirm,
    ContactAdd,
    ContactOptOut,
    ContactTag,
    ContactUntag,
    EnrollmentList,
    PendingBroadcast,
    PendingChange,
    Question,
    SequenceEnroll,
)
from bot.grammar.context import Context
from bot.grammar.natural.confirm import settled
from bot.grammar.natural.sends import complete_or_ask, which_reading
from bot.grammar.natural.targets import named_thing, phone_in, sequence_named
from bot.grammar.parser import COMMANDS
from bot.grammar.phrasing import (
    DRAFT_PHRASES,
    NOW_PHRASES,
    TIME_WORDS,
    is_time_word,
    looks_like_audience,
    schedule,
)
from bot.grammar.phrasing import audience as read_audience
from bot.grammar.zonewords import Ambiguous
from engine.errors import UsageError

CONFIRM = re.compile(
    r"(?:yes|y|yep|yeah|yup|ya|sure|ok|okay|k|confirm|confirmed|go|go ahead|do it|send it|"
    r"ship it|approve|approved|lgtm|👍|✅|:\+1:|:thumbsup:|:white_check_mark:|:heavy_check_mark:)"
    r"(?:[\s,]+(?:yes|please|go ahead|send it|do it|confirm|confirmed|sure))*"
)
CANCEL = re.compile(
    r"(?:no|n|nope|nah|cancel|cancel it|cancel that|stop|abort|don't|dont|do not|"
    r"never ?mind|forget it|scrap it|👎|❌|:-1:|:thumbsdown:|:x:)"
    r"(?:[\s,]+(?:no|thanks|thank you|don't send|dont send|cancel|cancel it|cancel that|stop|forget it"
    r"|never ?mind|not now|leave it|don't|dont))*"
)
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1}
_PICK = re.compile(
    r"(?:option\s+|number\s+|#)?(?P<n>[0-9]{1,2})|(?:the\s+)?(?P<ord>first|second|third|fourth|fifth|last)"
    r"(?:\s+one)?",
    re.ASCII,
)
_STRIP = frozenset({"the", "it", "one", "please", "a", "for", "good", "them", "to", "in"})
# First words of a new request rather than an answer to "who?" or "when?"
_NOT_AN_ANSWER = frozenset(
    {
        *("send", "broadcast", "blast", "schedule", "draft", "list", "show", "sync", "refresh"),
        *("how", "what", "help", "pause", "resume", "stop", "cancel", "enroll", "enrol", "add"),
        *("tag", "untag", "remove", "opt", "unsubscribe", "make", "change", "move", "use"),
        *("call", "name", "stats", "yes", "no"),
    }
)
_ACTION_WORDS = {
    "pause": ("pause", "paused", "halt", "hold"),
    "cancel": ("cancel", "cancelled", "canceled", "kill", "abort"),
}


def yes_or_no(said: str) -> Command | None:
    """Confirm or Cancel for a bare yes/no, else None."""
    if CONFIRM.fullmatch(said):
        return Confirm()
    if CANCEL.fullmatch(said):
        return Cancel()
    return None


def answer(question: Question, said: str, ctx: Context) -> Command | Question | None:
    """What ``said`` means as an answer to ``question``; None when it is not an answer
    (the person moved on, and the text is read on its own).

    Raises UsageError for an answer that is meant as one but is wrong (a pick out of
    range, an unknown tag, a time that has passed).
    """
    if question.choices:
        return _pick(question, said)
    if isinstance(question.pending, PendingChange):
        if CANCEL.fullmatch(said):
            return Cancel()
        return fill_change(question.pending, said, ctx)
    if question.pending is not None:
        if CANCEL.fullmatch(said):
            return Cancel()
        return _fill(question.pending, said, ctx)
    return None


def _pick(question: Question, said: str) -> Command | Question | None:
    choices = question.choices
    numbered = _by_number(choices, said)
    if numbered is not None:
        return numbered
    if CONFIRM.fullmatch(said):
        if len(choices) == 1:
            return choices[0]
        return Question(messages.ask_pick(len(choices)), choices=choices)
    words = {w for w in re.split(r"[\s,]+", said) if w and w not in _STRIP}
    picked = [c for c in choices if words and words <= _keywords(c)]
    if len(picked) == 1:
        return picked[0]
    return Cancel() if CANCEL.fullmatch(said) else None


def _by_number(choices: tuple[Command, ...], said: str) -> Command | None:
    """ "2", "#2", "option 2", "the second one", "the last one". Raises UsageError when the
    number is not one of the choices.
    """
    match = _PICK.fullmatch(said)
    if match is None:
        return None
    index = int(match.group("n")) if match.group("n") else _ORDINALS[match.group("ord")]
    if index == -1:
        return choices[-1]
    if not 1 <= index <= len(choices):
        raise UsageError(messages.ask_pick(len(choices)))
    return choices[index - 1]


def _keywords(choice: Command) -> set[str]:
    """Words that pick ``choice`` out of a Question's choices."""
    if isinstance(choice, BroadcastCreate):
        return {choice.template, *choice.template.split("_")}
    if isinstance(choice, BroadcastAction):
        return set(_ACTION_WORDS.get(choice.action, (choice.action,)))
    if isinstance(choice, SequenceEnroll):
        return {"sequence", "enroll", "enrol", "drip", choice.sequence.lower()}
    if isinstance(choice, ContactTag):
        return {"tag", "tagged", *choice.tags}
    return set()


def _fill(pending: PendingBroadcast, said: str, ctx: Context) -> Command | Question | None:  # noqa: PLR0911
    words = said.split()
    if not words or words[0].lstrip("/") in COMMANDS or words[0] in _NOT_AN_ANSWER:
        return None
    if pending.missing == "template":
        return _template(pending, words, ctx)
    if pending.missing == "tags":
        if words[0] in ("to", "for"):
            words = words[1:]
        if words and words[0].startswith("tags:"):
            words = [words[0].removeprefix("tags:"), *words[1:]]
        if not looks_like_audience(words):
            return None
        tags = read_audience(words, ctx, usage=messages.USAGE["broadcast"])
        return complete_or_ask(replace(pending, tags=tags), ctx)
    phrase = " ".join(words)
    timeish = any(w in TIME_WORDS or w[:1].isdigit() for w in words)
    if not (phrase in NOW_PHRASES or phrase in DRAFT_PHRASES or timeish):
        return None
    try:
        when = schedule(words, ctx)
    except Ambiguous as exc:
        return which_reading(exc, pending, ctx)
    return complete_or_ask(replace(pending, schedule=when), ctx)


def _template(pending: PendingBroadcast, words: list[str], ctx: Context) -> Command | Question | None:
    """The answer to "which template?": one template name (``promo_autumn``, ``the welcome offer``)."""
    kept = [w for w in words if w not in _STRIP and w not in ("template", "message", "one")]
    if not kept or len(kept) > 4 or any(is_time_word(w, ctx) for w in kept):
        return None
    word = "_".join(kept)
    known = ctx.vocabulary.templates
    template = names.template(word, names.NO_VOCABULARY, usage=messages.USAGE["broadcast"])
    if known is not None and template not in known:
        candidates = names.template_candidates(template, ctx.vocabulary)
        if len(candidates) != 1:
            names.template(word, ctx.vocabulary, usage=messages.USAGE["broadcast"])  # raises: did you mean
            return None
        template = candidates[0]
    return complete_or_ask(replace(pending, template=template), ctx)


def fill_change(pending: PendingChange, said: str, ctx: Context) -> Command | Question | None:
    """The command ``pending`` becomes with ``said`` as its missing piece, shown back before it is
    done; None when ``said`` is not such a piece (a new request, read on its own).
    """
    words = said.split()
    if not words or words[0].lstrip("/") in COMMANDS or words[0] in _NOT_AN_ANSWER - {"pause", "cancel"}:
        return None
    found: Command | Question | None
    if pending.missing == "phone":
        phone = phone_in(said, form="contacts", usage=messages.USAGE["contacts"])
        found = None if phone is None else _with_phone(pending, phone)
    elif pending.missing == "sequence":
        name = " ".join(w for w in words if w not in _STRIP and w not in ("sequence", "drip", "flow"))
        if not name or len(name.split()) > 4:
            return None
        found = _with_sequence(pending, sequence_named(name, said, ctx), ctx)
    elif pending.missing == "tags":
        if not looks_like_audience(words):
            return None
        tags = names.tags(
            [w for w in words if w not in ("as", "with", "tags", "tag")], usage=messages.USAGE["contacts tag"]
        )
        found = _with_tags(pending, tags)
    else:
        found = named_thing(said, ctx, action=pending.verb)
    return settled(found) if found is not None else None


def _with_phone(pending: PendingChange, phone: str) -> Command | None:  # noqa: PLR0911 - one per verb
    if pending.verb == "enroll" and pending.sequence:
        return SequenceEnroll(pending.sequence, phone)
    if pending.verb == "tag":
        return ContactTag(phone, pending.tags)
    if pending.verb == "untag":
        return ContactUntag(phone, pending.tags)
    if pending.verb == "optout":
        return ContactOptOut(phone)
    if pending.verb == "add":
        return ContactAdd(phone, name=pending.name)
    if pending.target == "enrollment":
        return EnrollmentList(phone)
    return None


def _with_sequence(pending: PendingChange, sequence: str, ctx: Context) -> Command | Question | None:
    if pending.verb == "enroll" and pending.phone:
        return SequenceEnroll(sequence, pending.phone)
    return named_thing(f"{sequence} sequence", ctx, action=pending.verb)


def _with_tags(pending: PendingChange, tags: tuple[str, ...]) -> Command | None:
    if not tags or not pending.phone:
        return None
    return ContactTag(pending.phone, tags) if pending.verb == "tag" else ContactUntag(pending.phone, tags)
