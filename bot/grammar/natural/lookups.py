"""Questions and orders about what exists: how a broadcast did, lists, counts, help,
and acting on a broadcast or sequence by name or number.

    how did yesterday's promo do?        → BroadcastFind("promo", yesterday)
    how did broadcast 12 do?             → BroadcastAction("stats", 12)
    how did we do this week?             → Stats(7d)
    stats for yesterday / promo stats    → Stats / BroadcastFind
    how many vip contacts are there?     → ContactCount(("vip",))
    list broadcasts / what's scheduled   → BroadcastList      (and templates, sequences)
    sync templates                       → TemplateSync
    cancel broadcast 12 / pause #12      → BroadcastAction;  "stop 12" asks pause or cancel
    pause the onboarding sequence        → SequenceAction
    help / what can you do / how do i …  → Help

Each reader returns None when the sentence is not its kind.
"""

from __future__ import annotations

import re
from typing import cast

from bot.grammar import messages, names
from bot.grammar.commands import (
    BroadcastAction,
    BroadcastFind,
    BroadcastList,
    BroadcastVerb,
    Command,
    ContactCount,
    Help,
    Question,
    SequenceAction,
    SequenceList,
    SequenceVerb,
    Stats,
    TemplateList,
    TemplateSync,
    Window,
)
from bot.grammar.context import Context
from bot.grammar.dates import WEEKDAYS
from bot.grammar.periods import past_weekday, period
from bot.grammar.phrasing import AUDIENCE_FILLERS, CONNECTORS, audience

_DOING = frozenset(
    {
        *("do", "doing", "done", "go", "going", "gone", "perform", "performing", "performed"),
        *("land", "landing", "landed", "look", "looking"),
    }
)
_HOW = re.compile(r"how(?:'s| is| was| did| are| were| has| have)\s+(?P<body>.+)")
_STATS_FOR = re.compile(r"(?:stats|numbers|results|funnel|report)\s+(?:for|on|of|from)\s+(?P<body>.+)")
_STATS_AFTER = re.compile(r"(?P<body>.+?)(?:'s)?\s+(?:stats|numbers|results|funnel|report)")
_HOW_MANY = re.compile(r"how many\s+(?P<body>.+)")
_LIST = re.compile(
    r"(?:list|show|show me|what are|which are|get)\s+(?:me\s+)?(?:all\s+)?(?:the\s+|our\s+)?"
    r"(?P<what>broadcasts|campaigns|templates|sequences|drips)"
)
_SCHEDULED = re.compile(r"what(?:'s| is) (?:scheduled|planned|queued|coming up)|anything scheduled")
_SYNC = re.compile(r"(?:sync|refresh|update|reload|fetch)\s+(?:the\s+)?templates")
_BY_ID = re.compile(
    r"(?P<verb>send|cancel|abort|kill|pause|halt|resume|unpause|show|stop)\s+(?:the\s+)?"
    r"(?:broadcast|campaign)?\s*#?(?P<id>[0-9]{1,18})",
    re.ASCII,
)
_SEQUENCE = re.compile(
    r"(?P<verb>activate|start|resume|pause|stop|show)\s+(?:the\s+)?"
    r"(?:(?:sequence|drip)\s+(?P<name1>\S+)|(?P<name2>\S+)\s+(?:sequence|drip|flow|journey))"
)
_HELP = re.compile(
    r"help(?:\s+(?:me\s+)?(?:with\s+)?(?P<topic>\w+))?|\?|what can you do|commands|"
    r"how (?:do|can) i\s+(?P<how>.+)|how to\s+(?P<how_to>.+)"
)
_VERBS: dict[str, str] = {
    "send": "send",
    "cancel": "cancel",
    "abort": "cancel",
    "kill": "cancel",
    "pause": "pause",
    "halt": "pause",
    "resume": "resume",
    "unpause": "resume",
    "show": "show",
}
_SEQUENCE_VERBS = {
    "activate": "activate",
    "start": "activate",
    "resume": "activate",
    "pause": "pause",
    "stop": "pause",
    "show": "show",
}
_EVERYTHING = frozenset(
    {
        *("we", "things", "everything", "it", "us", "all", "stuff", "overall", "broadcasts"),
        *("campaigns", "our", "sends", "messages"),
    }
)
_NOISE = frozenset(
    {
        *("the", "our", "my", "broadcast", "campaign", "send", "blast", "message", "on", "for"),
        *("show", "me", "give", "get", "see", "what", "are", "is"),
    }
)
_HELP_TOPICS = {
    "broadcast": "broadcast",
    "send": "broadcast",
    "schedule": "broadcast",
    "sequence": "sequence",
    "enroll": "sequence",
    "drip": "sequence",
    "contact": "contacts",
    "tag": "contacts",
    "template": "templates",
    "stats": "stats",
    "time": "times",
}


def how_did(said: str, clean: str, ctx: Context) -> Command | None:
    """Reads "how did yesterday's promo do?" and "stats for promo": a lookup or stats."""
    match = _HOW.fullmatch(said) or _STATS_FOR.fullmatch(said) or _STATS_AFTER.fullmatch(said)
    if match is None or said.startswith(("how do ", "how can ", "how many ")):
        return None
    words = match.group("body").replace("'s ", " ").replace("’s ", " ").split()
    window, words = _window(words, ctx)
    words = [w for w in words if w not in _NOISE and w not in _DOING]
    if len(words) == 1 and words[0].lstrip("#").isdigit() and words[0].lstrip("#").isascii():
        return BroadcastAction("stats", int(words[0].lstrip("#")))
    words = [w for w in words if w not in _EVERYTHING and w not in ("with", "about")]
    if not words:
        return Stats(window or period("today", now=ctx.now, tz=ctx.tz))
    return BroadcastFind(template_or_name=" ".join(words), window=window)


def how_many(said: str, clean: str, ctx: Context) -> Command | None:
    """Reads "how many vip contacts are there?" as a ContactCount."""
    match = _HOW_MANY.fullmatch(said)
    if match is None:
        return None
    extra = {"are", "there", "do", "we", "have", "has", "had", "got", "get", "in", "on", "is"}
    words = [w for w in match.group("body").split() if w not in extra]
    kept = [w for w in words if w not in AUDIENCE_FILLERS and w not in CONNECTORS]
    if not kept:
        return None
    return ContactCount(audience(words, ctx, usage=messages.USAGE["contacts count"]))


def listing(said: str, clean: str, ctx: Context) -> Command | None:
    """Reads "list broadcasts", "show me the templates", "what's scheduled", "sync templates"."""
    if _SCHEDULED.fullmatch(said):
        return BroadcastList()
    if _SYNC.fullmatch(said):
        return TemplateSync()
    match = _LIST.fullmatch(said)
    if match is None:
        return None
    what = match.group("what")
    if what in ("broadcasts", "campaigns"):
        return BroadcastList()
    return TemplateList() if what == "templates" else SequenceList()


def by_id(said: str, clean: str, ctx: Context) -> Command | Question | None:
    """Reads "cancel broadcast 12", "pause #12"; "stop 12" asks whether to pause or cancel."""
    match = _BY_ID.fullmatch(said)
    if match is None:
        return None
    number = int(match.group("id"))
    if number == 0:
        return None
    verb = match.group("verb")
    if verb == "stop":
        return Question(
            messages.ask_pause_or_cancel(number),
            choices=(BroadcastAction("pause", number), BroadcastAction("cancel", number)),
        )
    return BroadcastAction(cast(BroadcastVerb, _VERBS[verb]), number)


def sequence_action(said: str, clean: str, ctx: Context) -> Command | None:
    """Reads "pause the onboarding sequence" and "start drip onboarding"."""
    match = _SEQUENCE.fullmatch(said)
    if match is None:
        return None
    written = match.group("name1") or match.group("name2")
    usage = messages.USAGE["sequence"]
    name = names.sequence(_original_case(written, clean), ctx.vocabulary, usage=usage)
    return SequenceAction(cast(SequenceVerb, _SEQUENCE_VERBS[match.group("verb")]), name)


def help_asked(said: str, clean: str, ctx: Context) -> Command | None:
    """Reads "help", "what can you do", "how do I schedule a broadcast?" as Help."""
    match = _HELP.fullmatch(said)
    if match is None:
        return None
    text = match.group("topic") or match.group("how") or match.group("how_to") or ""
    for word in text.split():
        topic = _HELP_TOPICS.get(word.rstrip("s"))
        if topic:
            return Help(topic)
    return Help()


def _window(words: list[str], ctx: Context) -> tuple[Window | None, list[str]]:
    """The day named among ``words`` (today, yesterday, this week, a past weekday) and the rest."""
    rest: list[str] = []
    window: Window | None = None
    i = 0
    while i < len(words):
        word, following = words[i], words[i + 1] if i + 1 < len(words) else ""
        if word in ("today", "yesterday"):
            window = period(word, now=ctx.now, tz=ctx.tz)
        elif word in ("this", "last", "past") and following in ("week", "7d"):
            window = period("7d", now=ctx.now, tz=ctx.tz)
            i += 1
        elif word == "last" and following in WEEKDAYS:
            window = past_weekday(following, now=ctx.now, tz=ctx.tz)
            i += 1
        elif word in WEEKDAYS:
            window = past_weekday(word, now=ctx.now, tz=ctx.tz)
        else:
            rest.append(word)
        i += 1
    return window, rest


def _original_case(word: str, clean: str) -> str:
    """``word`` as the person capitalised it in ``clean``."""
    index = clean.lower().find(word)
    return clean[index : index + len(word)] if index >= 0 else word
