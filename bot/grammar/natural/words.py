"""Words as people type them: misspelt command words put right, emoji and filler taken out.

    "shwo me the brodcasts 🙏"   → "show me the broadcasts"
    "how many contcts r tagged vip" → "how many contacts are tagged vip"

Only Herald's own words are corrected (``KEYWORDS``), and never a word that is a
known template, tag or sequence name, a number or a phone: a name is as written.
Deterministic and cached per word, so it costs microseconds a message.
"""

from __future__ import annotations

import difflib
import unicodedata
from functools import lru_cache

from bot.grammar.context import Context
from bot.grammar.names import Vocabulary
from bot.grammar.phrasing import AUDIENCE_FILLERS, TIME_WORDS

KEYWORDS = frozenset(
    {
        *("broadcast", "broadcasts", "campaign", "campaigns", "sequence", "sequences", "template"),
        *("templates", "contact", "contacts", "enroll", "enrolled", "enrollment", "enrollments"),
        *("schedule", "scheduled", "cancel", "cancelled", "pause", "paused", "resume", "activate"),
        *("unsubscribe", "yesterday", "tomorrow", "today", "tonight", "morning", "evening"),
        *("afternoon", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        *("stats", "statistics", "status", "numbers", "running", "active", "approved", "pending"),
        *("rejected", "completed", "sending", "drafts", "subscribers", "customers", "people"),
        *("month", "doing", "performing", "details"),
    }
)
# Misspellings too short to correct by likeness ("last" is one letter from "list")
TYPOS = {"shwo": "show", "sohw": "show", "lsit": "list", "lits": "list", "paus": "pause", "stast": "stats"}
# Real words a letter or two from a keyword, and the grammar's own: never "corrected"
WORDS = frozenset(
    {
        *("contract", "contracts", "deliver", "spending", "unroll", "statue", "sender", "draft"),
        *("blast", "remove", "tagged", "named", "called", "instead", "change", "reschedule", "rename"),
        *("switch", "started", "start", "state", "stage", "sends", "people", "customer", "subscriber"),
        *("monthly", "weekly", "daily", "statuses", "contracts"),
        *("member", "members", "users", "every", "everyone", "message", "messages", "number", "numbers"),
        *TIME_WORDS,
        *AUDIENCE_FILLERS,
    }
)
MIN_LENGTH = 5
CUTOFF = 0.8
MAX_LENGTH_CHANGE = 2
# Texting shorthand read as the word it stands for
SHORTHAND = {
    "u": "you",
    "r": "are",
    "ur": "your",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "ty": "thanks",
    "wat": "what",
    "wats": "what's",
    "whats": "what's",
    "hows": "how's",
    "msg": "message",
    "msgs": "messages",
    "bcast": "broadcast",
    "bcasts": "broadcasts",
    "seq": "sequence",
    "seqs": "sequences",
    "stat": "stats",
    "enrol": "enroll",
    "enrolment": "enrollment",
    "enrolments": "enrollments",
    "enrolled": "enrolled",
}
_KEEP = frozenset({"👍", "👎", "✅", "❌", "✔", "✔️"})  # yes and no, read by replies
_EDGE = "\"'.,!?:;()[]"


def without_emoji(text: str) -> str:
    """``text`` without pictographs and symbols, unless they are all it says (a 👍 is a yes)."""
    kept = "".join(
        " " if unicodedata.category(c) in ("So", "Sk", "Cs") and c not in _KEEP else c for c in text
    )
    if not kept.strip() or kept == text:
        return text
    kept = "".join(c for c in kept if c not in _KEEP) if any(c.isalnum() for c in kept) else kept
    return " ".join(kept.split())


def corrected(text: str, ctx: Context) -> str:
    """``text`` with misspelt and shorthand command words replaced, case and names kept."""
    names = _names(ctx)
    out: list[str] = []
    for word in text.split(" "):
        core = word.strip(_EDGE)
        lowered = core.lower()
        fixed = _fix(lowered) if lowered and lowered not in names else None
        if fixed is None or fixed == lowered:
            out.append(word)
            continue
        start = word.find(core)
        out.append(word[:start] + fixed + word[start + len(core) :])
    return " ".join(out)


def _names(ctx: Context) -> frozenset[str]:
    return _names_of(ctx.vocabulary)


@lru_cache(maxsize=8)
def _names_of(known: Vocabulary) -> frozenset[str]:
    return frozenset(
        {
            *(known.templates or ()),
            *(known.tags or ()),
            *(s.lower() for s in known.sequences or ()),
        }
    )


@lru_cache(maxsize=8192)
def _fix(word: str) -> str | None:
    if word in KEYWORDS:
        return None
    found = SHORTHAND.get(word) or TYPOS.get(word)
    if found is not None:
        return found
    if len(word) < MIN_LENGTH or word in WORDS or not word.isalpha() or not word.isascii():
        return None
    # A slip keeps the first letter and about the length: "unpause" is not a misspelt "pause",
    # nor "inactive" of "active"
    pool = [k for k in KEYWORDS if k[0] == word[0] and abs(len(k) - len(word)) <= MAX_LENGTH_CHANGE]
    close = difflib.get_close_matches(word, pool, n=1, cutoff=CUTOFF)
    return close[0] if close else None
