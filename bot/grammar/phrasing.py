"""Word-level helpers for natural phrasings: politeness, audiences, schedule phrases.

Deterministic and rule-based: fixed word lists and the vocabulary, nothing learned.
"""

from __future__ import annotations

import re

from bot.grammar import names
from bot.grammar.broadcasts import read_schedule
from bot.grammar.commands import Schedule, ScheduleKind
from bot.grammar.context import Context
from bot.grammar.dates import WEEKDAYS

_COURTESY_START = re.compile(
    r"^(?:(?:please|pls|plz|hey|hi|hello|ok so|so|kindly|can you|could you|would you|will you|can u"
    r"|could u|can we|could we|can i|could i|let's|lets|i want to|i'd like to|i would like to"
    r"|i need to|we need to|i need|i want|i'd like|we want to|quickly|just|yo|dear herald|hey there"
    r"|good morning|good afternoon|herald|@herald)[,:]?\s+)+",
    re.IGNORECASE,
)
_COURTESY_END = re.compile(
    r"(?:[\s,]+(?:please|pls|plz|thanks|thank you|thx|ty|cheers|for me|real quick|if you can|:\)|:-\)))+$",
    re.IGNORECASE,
)
_END_PUNCTUATION = re.compile(r"[\s.!?]+$")
MONTHS = frozenset(
    {
        *("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov"),
        *("dec", "january", "february", "march", "april", "june", "july", "august", "september"),
        *("october", "november", "december"),
    }
)
TIME_WORDS = frozenset(
    {
        *("now", "today", "tonight", "tomorrow", "tomorow", "tmrw", "tmr", "yesterday", "at"),
        *("on", "in", "next", "this", "right", "immediately", "asap", "as", "draft", "noon"),
        *("midnight", "midday", "morning", "afternoon", "evening", "night", "@"),
        *WEEKDAYS,
        *MONTHS,
    }
)
AUDIENCE_FILLERS = frozenset(
    {
        *("the", "all", "our", "every", "everyone", "everybody", "tag", "tags", "tagged"),
        *("contacts", "contact", "customers", "customer", "people", "users", "members", "member"),
        *("segment", "segments", "list", "lists", "group", "groups", "with", "who", "are", "is"),
        *("in", "of", "folks", "audience", "subscribers"),
    }
)
CONNECTORS = frozenset({"and", "or", "&", "+", "plus"})
_SPLIT = re.compile(r"[,\s]+")
NOW_PHRASES = frozenset({"now", "right now", "immediately", "asap", "straight away", "right away"})
DRAFT_PHRASES = frozenset({"draft", "a draft", "as a draft", "as draft", "it a draft", "save it"})
MAX_AUDIENCE_WORDS = 8


def tidy(text: str) -> str:
    """``text`` without greetings, "please", "thanks" or end punctuation; case kept."""
    said = _END_PUNCTUATION.sub("", text.strip())
    said = _COURTESY_START.sub("", said)
    said = _COURTESY_END.sub("", said)
    return _END_PUNCTUATION.sub("", said).strip()


def is_time_word(word: str, ctx: Context) -> bool:
    """Whether ``word`` starts a time phrase (and is not a known tag)."""
    known = ctx.vocabulary.tags
    if known is not None and word in known:
        return False
    return word in TIME_WORDS or word[:1].isdigit()


def audience(words: list[str], ctx: Context, *, usage: str) -> tuple[str, ...]:
    """The tags in ``vip and gold customers`` / ``everyone tagged vip, gold``.

    An empty tuple when only fillers were said ("everyone"). Raises UsageError for
    a word that cannot be a tag or, with a vocabulary, is not a known tag.
    """
    parts = [p for w in words for p in _SPLIT.split(w.strip(",")) if p]
    kept = [p for p in parts if p not in AUDIENCE_FILLERS and p not in CONNECTORS]
    return names.tags(kept, usage=usage, check=ctx.vocabulary)


def looks_like_audience(words: list[str]) -> bool:
    """A short list of tag-shaped words, as an answer to "who should get it?"."""
    parts = [p for w in words for p in _SPLIT.split(w.strip(",")) if p]
    kept = [p for p in parts if p not in AUDIENCE_FILLERS and p not in CONNECTORS]
    return 0 < len(kept) <= MAX_AUDIENCE_WORDS and all(
        re.fullmatch(r"[a-z0-9][a-z0-9_\-.:/]{0,63}", p) for p in kept
    )


def schedule(words: list[str], ctx: Context) -> Schedule:
    """The schedule a natural phrase names: nothing (now, assumed), ``now``/``right now``,
    ``as a draft``, or a time (``tomorrow at 9``, ``for monday 9am``).

    Raises UsageError like ``read_time``.
    """
    if len(words) > 1 and words[0] in ("for", "on"):
        words = words[1:]
    phrase = " ".join(words)
    if phrase in NOW_PHRASES:
        return Schedule(ScheduleKind.NOW, ctx.tz)
    if phrase in DRAFT_PHRASES:
        return Schedule(ScheduleKind.DRAFT, ctx.tz)
    return read_schedule(words, ctx)
