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
from dataclasses import replace

from bot.grammar import messages, names
from bot.grammar.commands import (
    BroadcastAction,
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
    Stats,
    TemplateList,
)
from bot.grammar.context import Context
from bot.grammar.natural.nouns import LEADING, Noun, noun_of, split_noun, status_of
from bot.grammar.natural.targets import named_thing, phone_in, sequence_named
from bot.grammar.periods import find_period, period
from bot.grammar.phrasing import AUDIENCE_FILLERS, CONNECTORS, audience

_LIST = re.compile(
    r"(?:list|show|show me|get|get me|give me|display|see|view|what are|which are|tell me|pull up)"
    r"\s+(?:me\s+)?(?:(?:a|the)\s+list\s+of\s+)?(?:all\s+)?(?:of\s+)?(?:the\s+|our\s+|my\s+|your\s+)?"
    r"(?:[0-9]{1,3}\s+)?(?P<rest>.+)"
)
_WHICH = re.compile(
    r"(?:which|what|any)\s+(?P<rest>.+?)\s+(?:are|is|r|have been|has been|were|got)\s+"
    r"(?:currently\s+|now\s+)?(?P<status>[a-z ]+?)"
    r"(?:\s+(?:now|right now|at the moment|today))?"
)
_HAVE_TEMPLATE = re.compile(
    r"(?:do|does)\s+(?:we|i|you|herald)\s+have\s+(?:a|an|any)\s+(?P<name>[a-z0-9_ ]+?)\s+templates?"
    r"|(?:is there|are there)\s+(?:a|an|any)\s+(?P<name2>[a-z0-9_ ]+?)\s+templates?"
)
_HAVE = re.compile(
    r"(?:what|which)\s+(?P<rest>.+?)\s+(?:do|have|did)\s+(?:we|i|you)\s+(?:have|got)(?:\s+.*)?"
    r"|(?:what|which)\s+(?P<usable>templates?)\s+(?:can|could)\s+(?:i|we)\s+(?:use|send)"
)
_WENT_OUT = re.compile(
    r"(?:which|what|how many)\s+(?:broadcasts|campaigns|blasts)\s+"
    r"(?:went out|were sent|ran|started|did we send|have gone out|did we run)\s+(?P<period>.+)"
)
_ANYTHING = re.compile(
    r"(?:what's|what is|whats|anything|is anything|is there anything|what)\s+(?:currently\s+|still\s+)?"
    r"(?P<status>scheduled|running|sending|live|going out|paused|planned|coming up|queued|upcoming)"
    r"(?:\s+(?:now|right now|today|at the moment))?"
)
_WHO = re.compile(
    r"(?:who(?:'s| is)|whose number is|who has(?: the number)?|look\s?up|find|search(?: for)?"
    r"|details (?:of|for|on)|info (?:on|for|about)|show(?: me)?(?: the)? contact|contact)\s+(?P<rest>.+)"
)
_IS_PERSON = re.compile(
    r"(?:does|do we have)\s+(?P<who2>[+(0-9][0-9 ()+.\-]*?)"
    r"(?:\s+(?:exist|in the system|as a contact|on file))?"
    r"|is\s+(?P<who>[+(0-9][0-9 ()+.\-]*?)\s+(?:opted in|opted out|subscribed|unsubscribed|active|deleted"
    r"|a contact|in the system|on the list|known|here)"
)
_A_NAME = re.compile(r"[a-z][a-z .'\-]{0,40}")
_PERSON = re.compile(
    r"^(?:the\s+)?(?:contacts?|person|someone|somebody|customer)?\s*(?:named\s+|called\s+"
    r"|with\s+(?:the\s+)?(?:number|phone(?: number)?)\s+|whose number is\s+)?"
)
_WHO_TAGGED = re.compile(r"who(?:'s| is| are)\s+(?:tagged|in|on)\s+(?:the\s+)?(?P<tags>.+?)(?:\s+tags?)?")
_WHO_HAS = re.compile(
    r"who\s+has\s+(?:the\s+)?(?P<tags>.+?)\s+tags?"
    r"|who(?:'s| is| are)\s+(?:my|our|the|all)?\s*(?P<tags2>[a-z0-9_\-, ]+?)\s+"
    r"(?:customers|contacts|people|members|subscribers|users)"
)
_ENROLLED_IN = re.compile(
    r"(?:who(?:'s| is| are)|how many(?: people| contacts)?(?: are)?|how many)"
    r"\s+(?:(?:enrolled|enroled|signed up)\s+(?:in|on|into)|finished|completed|exited|left|dropped out of)"
    r"\s+(?:the\s+)?(?P<name>.+)"
)
_IS_ENROLLED = re.compile(
    r"is\s+(?P<who>[+(0-9][0-9 ()+.\-]*?)\s+(?:enrolled|enroled|in)\s+(?:in\s+)?(?:the\s+)?(?P<name>.+)"
)
_ENROLLMENTS = re.compile(
    r"(?:(?:show|list|get)\s+(?:me\s+)?(?:the\s+)?)?(?:enrollments|enrolments|sequences)\s+(?:of|for)\s+(?P<who>.+)"
    r"|(?:which|what)\s+sequences?\s+(?:is|does)\s+(?P<who2>.+?)\s+(?:enrolled\s+|signed up\s+)?(?:in|on|get)"
)
_HOW_MANY = re.compile(r"(?:how many|count(?: the| all| of)?|number of|total)\s+(?P<rest>.+)")
_NOW = re.compile(r"\s+(?:right now|now|at the moment|currently|today|at present|only|please)$")
_STATUS = re.compile(
    r"(?:what's|what is|whats|what)?\s*(?:the\s+)?(?:status|state|progress)\s+(?:of|on|for)\s+(?P<rest>.+)"
    r"|(?:give me\s+|any\s+)?(?:an?\s+)?(?:update|updates|news)\s+(?:on|about|for)\s+(?P<rest4>.+)"
    r"|(?P<rest2>.+?)(?:'s)?\s+(?:status|state|progress)"
    r"|is\s+(?P<rest3>.+?)\s+(?P<done>done|finished|complete|completed|sent|over|running|live|paused"
    r"|approved|active|on|off|still running|still going)"
    r"|when\s+(?:will|is|does)\s+(?P<rest6>.+?)\s+(?:be\s+|get\s+)?"
    r"(?P<done2>approved|done|sent|finished|go out)"
    r"|(?:show\s+(?:me\s+)?)?(?:the\s+)?(?:steps|definition|setup)\s+(?:of|for|in)\s+(?P<rest5>.+)"
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
_ONE_BROADCAST = re.compile(
    r"\b(?:broadcast|campaign|blast)\s+#?(?P<id>[0-9]{1,18})\b|#(?P<id2>[0-9]{1,18})\b"
)
_UNSENT = re.compile(
    r"(?:any|are there|show me|list)?\s*(?:the\s+)?drafts?"
    r"(?:\s+(?:i|we)\s+(?:haven't|have not|didn't)\s+sent)?"
)
_RECEIVED = re.compile(
    r"(?:people|contacts|customers|users)?\s*(?:got|received|were sent|opened|read|saw)\s+"
    r"(?P<name>(?!(?:delivered|read|replied|failed|sent|opted|messages|it|them)\b)\S.*)"
)
_STATUS_GROUPS = ("rest", "rest2", "rest3", "rest4", "rest5", "rest6")
_SENT_WORDS = re.compile(
    r"\b(?:messages|msgs|sent|send|sends|delivered|deliveries|read|reads|replied|replies|failed|failures"
    r"|opted out|opt-outs|optouts|unsubscribed|went out|got delivered|bounced)\b"
)
_COUNT_WORDS = frozenset({"are", "there", "do", "we", "have", "has", "had", "got", "is", "in", "on", "total"})


def bare(said: str, clean: str, ctx: Context) -> Command | Question | None:
    """``templates``, ``approved templates``, ``my sequences``, ``scheduled broadcasts``: a list."""
    text = _NOW.sub("", said.rstrip("?")).removeprefix("are there ").removeprefix("are ")
    words = _without_leading(text.split())
    if words == ["drafts"] or _UNSENT.fullmatch(said):
        return BroadcastList("draft")
    if len(words) == 4 and words[1:3] in (["that", "are"], ["which", "are"]):
        words = [words[0], words[3]]  # "templates that are approved"
    if not 0 < len(words) <= 3 or words[0] in _NOT_NAMES:
        return None
    found = split_noun(words)
    if found is not None and found[2] and found[2][0] in _SUBCOMMANDS:
        return None  # "contacts count tags:vip", "templates sync": the formal command
    return _listed(words, ctx)


def listing(said: str, clean: str, ctx: Context) -> Command | Question | None:  # noqa: PLR0911
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
    template = _HAVE_TEMPLATE.fullmatch(said)
    if template:
        return TemplateList(
            name=(template.group("name") or template.group("name2")).strip().replace(" ", "_")
        )
    have = _HAVE.fullmatch(said)
    if have:
        if have.group("usable"):
            return TemplateList("APPROVED")
        return _listed(_without_leading(have.group("rest").split()), ctx)
    went = _WENT_OUT.fullmatch(said)
    if went:
        window, rest = find_period(went.group("period").split(), now=ctx.now, tz=ctx.tz)
        return Stats(window) if window is not None and not rest else None
    match = _LIST.fullmatch(said)
    if match is None:
        return None
    return _listed(_without_leading(_NOW.sub("", match.group("rest")).split()), ctx)


def who(said: str, clean: str, ctx: Context) -> Command | Question | None:  # noqa: PLR0911 - one per form
    """``who is +91…`` → ContactShow; ``who is Asha`` → ContactFind; ``who is tagged vip`` → ContactList."""
    tagged = _WHO_TAGGED.fullmatch(said) or _WHO_HAS.fullmatch(said)
    if tagged and not _ENROLLED_IN.fullmatch(said):
        words = (tagged.group("tags") or tagged.group("tags2")).split()
        known = ctx.vocabulary.sequences
        if len(words) == 1 and known and words[0] in {s.lower() for s in known}:
            return SequenceAction("show", sequence_named(words[0], clean, ctx))
        return ContactList(audience(words, ctx, usage=messages.USAGE["contacts count"]))
    person = _IS_PERSON.fullmatch(said)
    if person:
        written = person.group("who") or person.group("who2")
        phone = phone_in(written, form="contacts", usage=messages.USAGE["contacts"])
        return ContactShow(phone) if phone else None
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
    written = match.group("who") or match.group("who2")
    phone = phone_in(written, form="contacts", usage=messages.USAGE["contacts"])
    if phone is None and _A_NAME.fullmatch(written):  # "which sequence is asha in": her contact card says
        return ContactFind(_original(written, clean))
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
    said_rest = " ".join(words)
    received = _RECEIVED.fullmatch(match.group("rest"))
    if received:  # "how many people got the autumn sale": that broadcast's funnel
        window, name = find_period(received.group("name").split(), now=ctx.now, tz=ctx.tz)
        thing = named_thing(" ".join(name), ctx, action="stats")
        return replace(thing, window=window) if isinstance(thing, BroadcastFind) else thing
    one = _ONE_BROADCAST.search(said_rest)
    if one:  # "how many failed in broadcast 1": that broadcast's funnel
        number = int(one.group("id") or one.group("id2"))
        return BroadcastAction("stats", number) if number else None
    if _SENT_WORDS.search(said_rest):
        window, _ = find_period(words, now=ctx.now, tz=ctx.tz)
        if window is not None or "opted out" not in said_rest:
            return Stats(window or period("today", now=ctx.now, tz=ctx.tz))
        return ContactCount(())
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
    rest = next(match.group(g) for g in _STATUS_GROUPS if match.group(g)).strip()
    phone = phone_in(rest, form="contacts", usage=messages.USAGE["contacts"])
    if phone is not None:
        return ContactShow(phone)
    if "approved" in (match.group("done"), match.group("done2")) or rest.startswith("template "):
        name = rest.removeprefix("template ").removeprefix("the ").removesuffix(" template")
        return TemplateList(name=names.template(name, ctx.vocabulary, usage=messages.USAGE["templates"]))
    thing = named_thing(rest, ctx, action="show")
    if thing is not None:
        return thing
    return None


def _listed(words: list[str], ctx: Context) -> Command | Question | None:  # noqa: PLR0911
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
    if noun == "broadcast" and after:  # "the broadcasts from this week": what went out then
        window, rest = find_period(after, now=ctx.now, tz=ctx.tz)
        if window is not None and all(w in ("from", "in", "of", "for", "during", "sent") for w in rest):
            return Stats(window)
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
    words = [w for w in (*before, *after) if w not in AUDIENCE_FILLERS and w not in CONNECTORS]
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
    """``the last 5 broadcasts`` → ``broadcasts``."""
    while words and (words[0] in LEADING or " ".join(words[:2]) in LEADING or words[0].isdigit()):
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
