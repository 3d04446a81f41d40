"""Questions about what exists, for every noun: list, show, status, count.

    templates / approved templates / which templates are approved → TemplateList(status)
    list my sequences / which sequences are running              → SequenceList(status)
    scheduled broadcasts / what's running right now              → BroadcastList(status)
    show contacts tagged vip / list vip contacts                 → ContactList(tags)
    who is +91 98123 45678 / look up +91…                        → ContactShow
    who is Asha / find contact Priya                             → ContactFind
    enrollments of +91… / is +91… enrolled in onboarding         → EnrollmentList
    who is enrolled in onboarding                                → SequenceAction("show")
    how many contacts do we have / how many are tagged vip       → ContactCount
    how many templates are approved                              → TemplateList(status)
    what's the status of broadcast 3 / broadcast 3 status        → BroadcastAction("show")
    status of the diwali promo / is the diwali promo done?       → BroadcastFind(action="show")
    is promo_winter approved? / show template promo_winter       → TemplateList(name=)

Each reader returns None when the sentence is not its kind.
"""

from __future__ import annotations

import re

from bot.grammar import messages, names
from bot.grammar.commands import (
    BroadcastFind,
    BroadcastList,
    Command,
    ContactCount,
    ContactFind,
    ContactList,
    ContactShow,
    EnrollmentList,
    PendingChange,
    Question,
    SequenceAction,
    SequenceList,
    TemplateList,
)
from bot.grammar.context import Context
from bot.grammar.natural.nouns import LEADING, Noun, noun_of, split_noun, status_of
from bot.grammar.natural.targets import named_thing, phone_in, sequence_named
from bot.grammar.phrasing import AUDIENCE_FILLERS, CONNECTORS, audience

_LIST = re.compile(
    r"(?:list|show|show me|get|get me|give me|display|see|view|what are|which are|tell me|pull up)"
    r"\s+(?:me\s+)?(?:a\s+list\s+of\s+)?(?:all\s+)?(?:of\s+)?(?:the\s+|our\s+|my\s+|your\s+)?(?P<rest>.+)"
)
_WHICH = re.compile(
    r"(?:which|what|any)\s+(?P<rest>.+?)\s+(?:are|is|r)\s+(?:currently\s+|now\s+)?(?P<status>[a-z ]+?)"
    r"(?:\s+(?:now|right now|at the moment|today))?"
)
_HAVE = re.compile(
    r"(?:what|which)\s+(?P<rest>.+?)\s+(?:do|have|did)\s+(?:we|i|you)\s+(?:have|got)(?:\s+.*)?"
)
_ANYTHING = re.compile(
    r"(?:what's|what is|whats|anything|is anything|is there anything|what)\s+"
    r"(?P<status>scheduled|running|sending|live|going out|paused|planned|coming up|queued|upcoming)"
    r"(?:\s+(?:now|right now|today|at the moment))?"
)
_WHO = re.compile(
    r"(?:who(?:'s| is)|whose number is|who has(?: the number)?|look\s?up|find|search(?: for)?"
    r"|details (?:of|for|on)|info (?:on|for|about)|show(?: me)?(?: the)? contact|contact)\s+(?P<rest>.+)"
)
_PERSON = re.compile(r"^(?:the\s+)?(?:contacts?|person|someone|somebody|customer)\s+(?:named\s+|called\s+)?")
_WHO_TAGGED = re.compile(r"who(?:'s| is| are)\s+(?:tagged|in|on)\s+(?:the\s+)?(?P<tags>.+?)(?:\s+tags?)?")
_WHO_HAS = re.compile(r"who\s+has\s+(?:the\s+)?(?P<tags>.+?)\s+tags?")
_ENROLLED_IN = re.compile(
    r"(?:who(?:'s| is| are)|how many(?: people| contacts)?(?: are)?|how many)"
    r"\s+(?:enrolled|enroled|signed up)\s+(?:in|on|into)\s+(?:the\s+)?(?P<name>.+)"
)
_IS_ENROLLED = re.compile(
    r"is\s+(?P<who>[+(0-9][0-9 ()+.\-]*?)\s+(?:enrolled|enroled|in)\s+(?:in\s+)?(?:the\s+)?(?P<name>.+)"
)
_ENROLLMENTS = re.compile(
    r"(?:(?:show|list|get)\s+(?:me\s+)?(?:the\s+)?)?(?:enrollments|enrolments|sequences)\s+(?:of|for)\s+(?P<who>.+)"
    r"|(?:which|what)\s+sequences\s+is\s+(?P<who2>.+?)\s+(?:enrolled\s+)?in"
)
_HOW_MANY = re.compile(r"(?:how many|count(?: the| all| of)?|number of|total)\s+(?P<rest>.+)")
_NOW = re.compile(r"\s+(?:right now|now|at the moment|currently|today|at present)$")
_STATUS = re.compile(
    r"(?:what's|what is|whats|what)?\s*(?:the\s+)?(?:status|state|progress)\s+(?:of|on|for)\s+(?P<rest>.+)"
    r"|(?P<rest2>.+?)(?:'s)?\s+(?:status|state|progress)"
    r"|is\s+(?P<rest3>.+?)\s+(?P<done>done|finished|complete|completed|sent|over|running|live|paused|approved)"
)
_SUBCOMMANDS = frozenset({"add", "tag", "untag", "optout", "count", "list", "sync", "show", "help", "enroll"})
# first words of a request, never a tag or a status ("find contact Priya")
_NOT_NAMES = frozenset(
    {
        *("find", "search", "look", "lookup", "show", "list", "get", "see", "view", "display", "who"),
        *("what", "which", "how", "count", "add", "tag", "untag", "remove", "enroll", "pause", "cancel"),
        *("resume", "sync", "send", "stop", "activate", "help"),
    }
)
_COUNT_WORDS = frozenset({"are", "there", "do", "we", "have", "has", "had", "got", "is", "in", "on", "total"})


def bare(said: str, clean: str, ctx: Context) -> Command | Question | None:
    """``templates``, ``approved templates``, ``my sequences``, ``scheduled broadcasts``: a list."""
    text = _NOW.sub("", said.rstrip("?")).removeprefix("are there ").removeprefix("are ")
    words = _without_leading(text.split())
    if words == ["drafts"]:
        return BroadcastList("draft")
    if not 0 < len(words) <= 3 or words[0] in _NOT_NAMES:
        return None
    found = split_noun(words)
    if found is not None and found[2] and found[2][0] in _SUBCOMMANDS:
        return None  # "contacts count tags:vip", "templates sync": the formal command
    return _listed(words, ctx)


def listing(said: str, clean: str, ctx: Context) -> Command | Question | None:
    """``list …``, ``show me …``, ``which … are <status>``, ``what … do we have``, ``what's running``."""
    anything = _ANYTHING.fullmatch(said)
    if anything:
        return BroadcastList(status_of("broadcast", anything.group("status")))
    which = _WHICH.fullmatch(said)
    if which:
        found = split_noun(_without_leading(which.group("rest").split()))
        if found is not None and not found[1] and not found[2]:
            status = status_of(found[0], which.group("status"))
            if status is not None or found[0] in ("template", "sequence", "broadcast"):
                return _list_of(found[0], status, [], ctx) if status else None
    have = _HAVE.fullmatch(said)
    if have:
        return _listed(_without_leading(have.group("rest").split()), ctx)
    match = _LIST.fullmatch(said)
    if match is None:
        return None
    return _listed(_without_leading(match.group("rest").split()), ctx)


def who(said: str, clean: str, ctx: Context) -> Command | Question | None:  # noqa: PLR0911 - one per form
    """``who is +91…`` → ContactShow; ``who is Asha`` → ContactFind; ``who is tagged vip`` → ContactList."""
    tagged = _WHO_TAGGED.fullmatch(said) or _WHO_HAS.fullmatch(said)
    if tagged and not _ENROLLED_IN.fullmatch(said):
        words = tagged.group("tags").split()
        known = ctx.vocabulary.sequences
        if len(words) == 1 and known and words[0] in {s.lower() for s in known}:
            return SequenceAction("show", sequence_named(words[0], clean, ctx))
        return ContactList(audience(words, ctx, usage=messages.USAGE["contacts count"]))
    enrolled = _ENROLLED_IN.fullmatch(said)
    if enrolled:
        return SequenceAction("show", sequence_named(_strip_kind(enrolled.group("name")), clean, ctx))
    match = _WHO.fullmatch(said)
    if match is None:
        return None
    rest = _PERSON.sub("", match.group("rest").strip())
    phone = phone_in(rest, form="contacts", usage=messages.USAGE["contacts"])
    if phone is not None:
        return ContactShow(phone)
    if said.startswith(("find", "search", "look", "details", "info", "contact", "show")):
        named = named_thing(rest, ctx)
        if split_noun(rest.split()) is not None or not isinstance(named, BroadcastFind | None):
            return None  # "find the diwali broadcast", "look up onboarding": not a person
    name = _original(rest, clean).strip(" ?")
    if not name or len(name) > names.MAX_NAME or not any(c.isalpha() for c in name):
        return None
    return ContactFind(name)


def enrollments(said: str, clean: str, ctx: Context) -> Command | Question | None:
    """``enrollments of +91…``, ``is +91… enrolled in onboarding``, ``which sequences is +91… in``."""
    asked = _IS_ENROLLED.fullmatch(said)
    if asked:
        phone = phone_in(asked.group("who"), form="sequence enroll", usage=messages.USAGE["sequence enroll"])
        if phone is None:
            return None
        return EnrollmentList(phone, sequence_named(_strip_kind(asked.group("name")), clean, ctx))
    match = _ENROLLMENTS.fullmatch(said)
    if match is None:
        return None
    phone = phone_in(
        match.group("who") or match.group("who2"), form="contacts", usage=messages.USAGE["contacts"]
    )
    return EnrollmentList(phone) if phone is not None else None


def how_many(said: str, clean: str, ctx: Context) -> Command | Question | None:  # noqa: PLR0911
    """``how many contacts do we have``, ``how many vip contacts are there``, ``how many templates are
    approved``, ``how many sequences are running``, ``how many are enrolled in onboarding``.
    """
    if _ENROLLED_IN.fullmatch(said):
        return who(said, clean, ctx)
    match = _HOW_MANY.fullmatch(said)
    if match is None:
        return None
    words = [w for w in match.group("rest").split() if w not in _COUNT_WORDS]
    found = split_noun(words)
    if found is not None and found[0] in ("template", "sequence", "broadcast"):
        noun, before, after = found
        said_status = " ".join(before + after)
        status = status_of(noun, said_status)
        if said_status and status is None:
            return None
        return _list_of(noun, status, [], ctx)
    kept = [w for w in words if w not in AUDIENCE_FILLERS and w not in CONNECTORS and w != "tagged"]
    if not kept and found is not None and found[0] == "contact":
        return ContactCount(())
    if not kept or len(kept) > 8:
        return None
    return ContactCount(audience(words, ctx, usage=messages.USAGE["contacts count"]))


def status(said: str, clean: str, ctx: Context) -> Command | Question | None:
    """``what's the status of broadcast 3``, ``broadcast 3 status``, ``is the diwali promo done?``,
    ``is promo_winter approved?``, ``status of the onboarding sequence``.
    """
    match = _STATUS.fullmatch(said)
    if match is None:
        return None
    rest = (match.group("rest") or match.group("rest2") or match.group("rest3") or "").strip()
    if match.group("done") == "approved" or rest.startswith("template "):
        name = rest.removeprefix("template ").removeprefix("the ").removesuffix(" template")
        return TemplateList(name=names.template(name, ctx.vocabulary, usage=messages.USAGE["templates"]))
    thing = named_thing(rest, ctx, action="show")
    if thing is not None:
        return thing
    return None


def _listed(words: list[str], ctx: Context) -> Command | Question | None:
    """``[<status>] <noun> [that are <status> | tagged <tags> | for <phone>]`` as a list."""
    found = split_noun(words)
    if found is None:
        return None
    noun, before, after = found
    if after[:2] in (["that", "are"], ["which", "are"]) or after[:1] in (["are"], ["that"]):
        after = after[2:] if after[:1] != ["are"] else after[1:]
    if noun == "contact":
        return _contacts(before, after, ctx)
    if noun == "enrollment":
        return _enrollments_of(after, ctx)
    if noun == "stats" and not before and not after:
        return None  # "stats" is the formal command
    said_status = " ".join(before + after)
    status = status_of(noun, said_status)
    if said_status and status is None:
        return None
    return _list_of(noun, status, after, ctx)


def _list_of(noun: Noun, status: str | None, rest: list[str], ctx: Context) -> Command | None:
    if noun == "broadcast":
        return BroadcastList(status)
    if noun == "sequence":
        return SequenceList(status)
    if noun == "template":
        return TemplateList(status)
    if noun == "contact":
        return ContactList(())
    return None


def _contacts(before: list[str], after: list[str], ctx: Context) -> Command | None:
    """``vip contacts``, ``contacts tagged vip``, ``contacts with the gold tag``, ``all contacts``."""
    if after[:1] in (["tagged"], ["with"], ["in"], ["having"], ["that", "have"]):
        after = after[1:]
    words = [*before, *after]
    if not words:
        return ContactList(())
    if any(w in _NOT_NAMES or not re.fullmatch(r"[a-z0-9][a-z0-9_\-.:/,]*", w) for w in words):
        return None
    return ContactList(audience(words, ctx, usage=messages.USAGE["contacts count"]))


def _enrollments_of(after: list[str], ctx: Context) -> Command | Question:
    if after[:1] in (["of"], ["for"]):
        phone = phone_in(" ".join(after[1:]), form="contacts", usage=messages.USAGE["contacts"])
        if phone is not None:
            return EnrollmentList(phone)
    if after[:1] in (["in"], ["on"]) and len(after) > 1:
        return SequenceAction("show", sequence_named(_strip_kind(" ".join(after[1:])), " ".join(after), ctx))
    return Question(
        messages.ask_whose_enrollments(), pending=PendingChange("show", "phone", target="enrollment")
    )


def _without_leading(words: list[str]) -> list[str]:
    while words and (words[0] in LEADING or " ".join(words[:2]) in LEADING):
        words = words[2:] if " ".join(words[:2]) in LEADING else words[1:]
    return words


def _strip_kind(name: str) -> str:
    for kind in (" sequence", " drip", " flow", " journey"):
        name = name.removesuffix(kind)
    return name.removeprefix("the ").strip(" ?")


def _original(text: str, clean: str) -> str:
    """``text`` (lower case) as the person capitalised it in ``clean``."""
    index = clean.lower().find(text)
    return clean[index : index + len(text)] if index >= 0 else text


__all__ = ["bare", "enrollments", "how_many", "listing", "noun_of", "status", "who"]
