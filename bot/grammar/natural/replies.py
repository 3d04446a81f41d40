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

from bot.grammar import messages
from bot.grammar.commands import (
    BroadcastAction,
    BroadcastCreate,
    Cancel,
    Command,
    Confirm,
    ContactTag,
    PendingBroadcast,
    Question,
    SequenceEnroll,
)
from bot.grammar.context import Context
from bot.grammar.natural.sends import complete_or_ask
from bot.grammar.parser import COMMANDS
from bot.grammar.phrasing import (
    DRAFT_PHRASES,
    NOW_PHRASES,
    TIME_WORDS,
    looks_like_audience,
    schedule,
)
from bot.grammar.phrasing import audience as read_audience
from engine.errors import UsageError

CONFIRM = re.compile(
    r"(?:yes|y|yep|yeah|yup|ya|sure|ok|okay|k|confirm|confirmed|go|go ahead|do it|send it|"
    r"ship it|approve|approved|lgtm|👍|✅|:\+1:|:thumbsup:|:white_check_mark:|:heavy_check_mark:)"
    r"(?:[\s,]+(?:yes|please|go ahead|send it|do it|confirm|confirmed|sure))*"
)
CANCEL = re.compile(
    r"(?:no|n|nope|nah|cancel|cancel it|cancel that|stop|abort|don't|dont|do not|"
    r"never ?mind|forget it|scrap it|👎|❌|:-1:|:thumbsdown:|:x:)"
    r"(?:[\s,]+(?:no|thanks|thank you|don't send|dont send|cancel|cancel it|stop))*"
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


def _fill(pending: PendingBroadcast, said: str, ctx: Context) -> Command | Question | None:
    words = said.split()
    if not words or words[0].lstrip("/") in COMMANDS or words[0] in _NOT_AN_ANSWER:
        return None
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
    return complete_or_ask(replace(pending, schedule=schedule(words, ctx)), ctx)
