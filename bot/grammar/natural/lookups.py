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

from bot.grammar import messages
from bot.grammar.commands import (
    BroadcastAction,
    BroadcastFind,
    BroadcastList,
    BroadcastVerb,
    Chitchat,
    Command,
    Help,
    Question,
    SequenceList,
    Stats,
    TemplateList,
    TemplateSync,
)
from bot.grammar.context import Context
from bot.grammar.natural.targets import named_thing
from bot.grammar.periods import find_period, period, read_period

_DOING = frozenset(
    {
        *("do", "doing", "done", "go", "going", "gone", "perform", "performing", "performed"),
        *("land", "landing", "landed", "look", "looking"),
    }
)
_HOW = re.compile(r"how(?:'s| is| was| did| are| were| has| have)\s+(?P<body>.+)")
_STATS_FOR = re.compile(r"(?:stats|numbers|results|funnel|report)\s+(?:for|on|of|from)\s+(?P<body>.+)")
_STATS_PERIOD = re.compile(
    r"(?:(?:show|give|get|send)\s+(?:me\s+)?)?(?:the\s+|a\s+)?(?:stats|statistics|numbers|results|figures"
    r"|metrics|report|summary|overview|recap|rundown|delivery stats|delivery numbers|delivery report"
    r"|how we did|how did we do|how are we doing"
    r"|how have we done|how did things go)"
    r"(?:\s+(?:for|from|over|during|in|of|since))?\s+(?:the\s+)?(?P<period>.+?)"
)

_STATS_AFTER = re.compile(r"(?P<body>.+?)(?:'s)?\s+(?:stats|numbers|results|funnel|report)")
_LIST = re.compile(
    r"(?:list|show|show me|what are|which are|get)\s+(?:me\s+)?(?:all\s+)?(?:the\s+|our\s+)?"
    r"(?P<what>broadcasts|campaigns|templates|sequences|drips)"
)
_SHOW_ME = re.compile(r"^(?:show me|tell me|let me see|show|list)\s+")
_SCHEDULED = re.compile(
    r"(?:what(?:'s| is)|whats|what) (?:scheduled|planned|queued|coming up|going out)(?:\s+.*)?"
    r"|anything scheduled"
)
_SYNC = re.compile(
    r"(?:(?:re-?)?sync(?:\s+(?:the\s+|our\s+|all\s+)?templates)?"
    r"|(?:refresh|update|reload|fetch|pull)\s+(?:the\s+|our\s+|all\s+)?templates)"
    r"(?:\s+(?:now|from whatsapp|from meta))?"
)
_BY_ID = re.compile(
    r"(?P<verb>send|cancel|abort|kill|pause|halt|resume|unpause|restart|show|stop|open|view|get|details)"
    r"\s+(?:me\s+)?(?:of\s+|for\s+)?(?:the\s+)?(?:broadcast|campaign|blast)?\s*(?:no\.?\s*|number\s+)?"
    r"#?(?P<id>[0-9]{1,18})"
    r"(?:\s+(?:now|right now|straight away)|\s+(?:it|this|that|as|because|since)\b[^0-9]*)?",
    re.ASCII,
)
_SEQUENCE = re.compile(
    r"(?P<verb>activate|start|resume|pause|stop|show|turn on|turn off|enable|disable|restart)\s+(?:me\s+)?"
    r"(?:the\s+)?(?:(?:sequence|drip|flow|journey)\s+(?P<name1>\S+(?:\s\S+)?)"
    r"|(?P<name2>\S+(?:\s\S+)?)\s+(?:sequence|drip|flow|journey))"
)
_HELP = re.compile(
    r"help(?:\s+(?:me\s+)?(?:with\s+|to\s+|on\s+)?(?P<topic>.+))?|\?|what can you do|commands|"
    r"how (?:do|can) i\s+(?P<how>.+)|how to\s+(?P<how_to>.+)"
    r"|what (?:does|can) herald do|what is herald|who are you|what are you|what do you do"
    r"|what can i (?:ask|say|type|do)(?: you| here)?"
)
_RATE = re.compile(
    r"(?:what(?:'s| is| are| was| were)\s+)?(?:our|the|my)?\s*"
    r"(?:read|delivery|reply|response|failure|opt-?out|open|send)\s+rates?"
    r"(?:\s+(?:for|over|in|during))?\s*(?P<period>.*)"
)
_COMPARE = frozenset({"compare", "compared", "vs", "versus", "against"})
_HELLO = frozenset(
    {
        *("hi", "hello", "hey", "hi there", "hello there", "hey there", "good morning", "good evening"),
        *("good afternoon", "what's up", "whats up", "sup", "yo", "herald", "hiya", "howdy", "namaste"),
    }
)
_THANKS = frozenset(
    {"thanks", "thank you", "thx", "ty", "cheers", "thanks a lot", "great thanks", "ok thanks", "perfect"}
    | {"great", "cool", "awesome", "nice", "thank you so much", "many thanks", "much appreciated"}
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
    "restart": "resume",
    "show": "show",
    "open": "show",
    "view": "show",
    "get": "show",
    "details": "show",
}
_SEQUENCE_VERBS = {
    "activate": "activate",
    "start": "activate",
    "resume": "activate",
    "restart": "activate",
    "turn on": "activate",
    "enable": "activate",
    "pause": "pause",
    "stop": "pause",
    "turn off": "pause",
    "disable": "pause",
    "show": "show",
}
_EVERYTHING = frozenset(
    {
        *("we", "things", "everything", "it", "us", "all", "stuff", "overall", "broadcasts"),
        *("campaigns", "our", "sends", "messages", "over", "during", "in", "since"),
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


def how_did(said: str, clean: str, ctx: Context) -> Command | Question | None:
    """Reads "how did yesterday's promo do?", "how is onboarding doing?" and "stats for promo":
    a lookup, a sequence's report, or stats for a period.
    """
    match = _HOW.fullmatch(said) or _STATS_FOR.fullmatch(said) or _STATS_AFTER.fullmatch(said)
    if match is None or said.startswith(("how do ", "how can ", "how many ", "how to ")):
        return None
    words = match.group("body").replace("'s ", " ").replace("’s ", " ").split()
    window, words = find_period(words, now=ctx.now, tz=ctx.tz)
    if window is not None and _COMPARE & set(words):  # "how did this week compare to last week"
        return Stats(window)
    words = [w for w in words if w not in _NOISE and w not in _DOING]
    if len(words) == 1 and words[0].lstrip("#").isdigit() and words[0].lstrip("#").isascii():
        return BroadcastAction("stats", int(words[0].lstrip("#")))
    words = [w for w in words if w not in _EVERYTHING and w not in ("with", "about")]
    if not words:
        return Stats(window or period("today", now=ctx.now, tz=ctx.tz))
    thing = named_thing(" ".join(words), ctx, action="stats")
    if isinstance(thing, BroadcastFind):
        return BroadcastFind(template_or_name=thing.template_or_name, window=window)
    return thing


def rate(said: str, clean: str, ctx: Context) -> Command | Question | None:
    """Reads "what's our read rate this week", "delivery rate yesterday": the stats for the period."""
    match = _RATE.fullmatch(said)
    if match is None:
        return None
    period_words = match.group("period").split()
    window, rest = find_period(period_words, now=ctx.now, tz=ctx.tz)
    while rest and rest[0] in ("on", "for", "of", "in", "the"):
        rest = rest[1:]
    if rest:  # "the delivery rate for the diwali promo": that broadcast's funnel
        thing = named_thing(" ".join(rest), ctx, action="stats")
        if isinstance(thing, BroadcastFind):
            return BroadcastFind(thing.template_or_name, window=window)
        return thing
    return Stats(window or period("today", now=ctx.now, tz=ctx.tz))


def stats_for(said: str, clean: str, ctx: Context) -> Command | None:
    """Reads "stats for the last 30 days", "numbers this month", "how did we do last week",
    "stats from 1 nov to 15 nov": Stats over the period said.
    """
    match = _STATS_PERIOD.fullmatch(said)
    if match is None:
        return None
    window = read_period(match.group("period"), now=ctx.now, tz=ctx.tz)
    return Stats(window) if window is not None else None


def listing(said: str, clean: str, ctx: Context) -> Command | None:
    """Reads "list broadcasts", "show me the templates", "what's scheduled", "sync templates"."""
    if _SCHEDULED.fullmatch(_SHOW_ME.sub("", said)):
        return BroadcastList("scheduled")
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


def sequence_action(said: str, clean: str, ctx: Context) -> Command | Question | None:
    """Reads "pause the onboarding sequence" and "start drip onboarding"."""
    match = _SEQUENCE.fullmatch(said)
    if match is None:
        return None
    written = match.group("name1") or match.group("name2")
    verb = _SEQUENCE_VERBS[match.group("verb")]
    return named_thing(f"{written} sequence", ctx, action=verb)


def chitchat(said: str, clean: str, ctx: Context) -> Command | None:
    """ "hi", "thanks": a greeting or thanks, answered as one."""
    if said in _HELLO:
        return Chitchat("hello")
    if said in _THANKS:
        return Chitchat("thanks")
    return None


def help_asked(said: str, clean: str, ctx: Context) -> Command | None:
    """Reads "help", "what can you do", "how do I schedule a broadcast?" as Help."""
    match = _HELP.fullmatch(said)
    if match is None:
        return None
    text = match.group("topic") or match.group("how") or match.group("how_to") or ""
    if match.group("topic") and len(text.split()) == 1 and not _HELP_TOPICS.get(text.rstrip("s")):
        return None  # "help xyz": the formal language's refusal says which topics there are
    for word in text.split():
        topic = _HELP_TOPICS.get(word.rstrip("s"))
        if topic:
            return Help(topic)
    return Help()


def _original_case(word: str, clean: str) -> str:
    """``word`` as the person capitalised it in ``clean``."""
    index = clean.lower().find(word)
    return clean[index : index + len(word)] if index >= 0 else word
