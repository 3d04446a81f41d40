"""Last, for a question no other reading took: answer about what it mentions.

    did broadcast 1 finish? / give me the funnel for broadcast 1  → BroadcastAction("stats", 1)
    what's in the onboarding sequence?                           → SequenceAction("show", …)
    what did we send last friday? / what were the numbers yesterday → Stats(that day)
    anything about +91 98123 45678?                              → ContactShow
    is asha a vip?                                               → ContactFind("asha")

Only questions (by their first word), only reads, and never when the sentence
holds a word that changes something: those are read by the rules above, or
asked back, not guessed here.
"""

from __future__ import annotations

import re

from bot.grammar import messages
from bot.grammar.commands import (
    BroadcastAction,
    Command,
    ContactFind,
    ContactShow,
    SequenceAction,
    Stats,
    TemplateList,
)
from bot.grammar.context import Context
from bot.grammar.natural.targets import phone_in
from bot.grammar.periods import find_period

QUESTION_STARTS = frozenset(
    {
        *("what", "what's", "whats", "how", "how's", "hows", "which", "did", "does", "do", "is", "are"),
        *("has", "have", "was", "were", "when", "who", "show", "give", "tell", "any", "anything", "get"),
        *("can", "could", "where", "whats", "status", "info", "details", "funnel", "numbers"),
    }
)
CHANGES = frozenset(
    {
        *("pause", "cancel", "stop", "resume", "delete", "remove", "add", "tag", "untag", "enroll"),
        *("enrol", "opt", "unsubscribe", "activate", "sync", "schedule", "halt", "kill", "abort"),
        *("start", "create", "make", "change", "move", "push", "mark", "put"),
    }
)
_BROADCAST = re.compile(
    r"\b(?:broadcast|campaign|blast)\s+(?:no\.?\s*|number\s+)?#?(?P<a>[0-9]{1,18})\b|#(?P<b>[0-9]{1,18})\b"
)
_PHONE = re.compile(r"\+[0-9][0-9 ().\-]{6,}[0-9]")
_IS_TAGGED = re.compile(r"is\s+(?P<name>[a-z][a-z'\-]{1,30})\s+(?:a|an|in|tagged)?\s*(?P<tag>\S+)")
_SENDS = frozenset(
    {
        *("send", "sent", "sends", "numbers", "stats", "do", "did", "go", "went", "results", "report"),
        *("performance", "delivered", "read", "happen", "happened", "out", "figures"),
    }
)


def mentioned(said: str, clean: str, ctx: Context) -> Command | None:  # noqa: PLR0911 - one per kind
    """The one read-only thing a question mentions, or None."""
    words = said.split()
    if not words or words[0] not in QUESTION_STARTS or CHANGES & set(words):
        return None
    broadcast = _BROADCAST.search(said)
    if broadcast:
        number = int(broadcast.group("a") or broadcast.group("b"))
        return BroadcastAction("stats", number) if number else None
    phone = _PHONE.search(said)
    if phone:
        found = phone_in(phone.group(0), form="contacts", usage=messages.USAGE["contacts"])
        return ContactShow(found) if found else None
    for sequence in sorted(ctx.vocabulary.sequences or (), key=len, reverse=True):
        if re.search(rf"\b{re.escape(sequence.lower())}\b", said):
            return SequenceAction("show", sequence)
    tagged = _IS_TAGGED.fullmatch(said)
    if tagged and tagged.group("tag") in (ctx.vocabulary.tags or ()):
        return ContactFind(_original(tagged.group("name"), clean))
    window, _ = find_period(words, now=ctx.now, tz=ctx.tz)
    if window is not None and _SENDS & set(words):
        return Stats(window)
    templates = ctx.vocabulary.templates or frozenset()
    named = [w for w in words if w in templates]
    return TemplateList(name=named[0]) if len(named) == 1 else None


def _original(word: str, clean: str) -> str:
    index = clean.lower().find(word)
    return clean[index : index + len(word)] if index >= 0 else word
