"""Contacts and enrollments asked for in words.

    enroll +91 98123 45678 in onboarding        → SequenceEnroll
    add +919812345678 to the onboarding drip    → SequenceEnroll
    add +919812345678 to vip                    → SequenceEnroll or ContactTag, by the
                                                  vocabulary; a Question when both fit
    add contact +919812345678 named Asha tagged vip, gold   → ContactAdd
    tag +919812345678 as vip                    → ContactTag
    untag +919812345678 vip / remove vip from +919812345678 → ContactUntag
    opt out +919812345678 / unsubscribe +919812345678      → ContactOptOut

Each reader returns None when the sentence is not its kind.
"""

from __future__ import annotations

import re

from bot.grammar import messages, names
from bot.grammar.commands import (
    Command,
    ContactAdd,
    ContactOptOut,
    ContactTag,
    ContactUntag,
    PendingChange,
    Question,
    SequenceEnroll,
)
from bot.grammar.context import Context
from bot.grammar.natural.targets import phone_in, sequence_named
from bot.grammar.near import nearest
from bot.grammar.phones import looks_like_phone, take_phone
from bot.grammar.phrasing import AUDIENCE_FILLERS, CONNECTORS, looks_like_audience
from bot.grammar.tokens import split, tokenize
from engine.errors import UsageError
from engine.phones import mask_phone

_PHONE = r"(?P<who>[+(0-9][0-9 ()+.\-]*?)"
_ENROLL = re.compile(
    rf"(?P<verb>enroll|enrol|add|put|subscribe|sign up|sign)\s+(?:the\s+)?(?:number\s+|contact\s+)?{_PHONE}"
    r"(?:\s+up)?\s+(?:in|into|to|on|onto|for)\s+"
    r"(?:the\s+)?(?P<target>\"[^\"]+\"|\S+(?:\s+(?!(?:sequence|drip|flow|journey|tag|list|segment|group)$)\S+)?)"
    r"(?:\s+(?P<kind>sequence|drip|flow|journey|tag|list|segment|group))?",
    re.IGNORECASE,
)
_ADD_CONTACT = re.compile(
    r"(?:add|create|save|new)\s+(?:a\s+)?(?:new\s+)?(?:contact|number|person)\s+(?P<rest>.+)"
    r"|(?:add|save)\s+(?:a\s+)?(?:new\s+)?(?P<number>[+(0-9].*)",
    re.IGNORECASE,
)
_ADD_NOBODY = re.compile(
    r"(?:add|create|new)\s+(?:a\s+)?(?:new\s+)?(?:contact|person)(?:\s+(?:named|called)\s+(?P<name>.+))?",
    re.IGNORECASE,
)
_START_FOR = re.compile(
    r"(?:start|begin|kick off)\s+(?:the\s+)?(?P<target>.+?)\s+(?:sequence\s+|drip\s+)?"
    rf"(?:for|with)\s+{_PHONE}",
    re.IGNORECASE,
)
_ENROLL_NOWHERE = re.compile(rf"(?:enroll|enrol|subscribe|sign up)\s+{_PHONE}", re.IGNORECASE)
_ENROLL_NOBODY = re.compile(
    r"(?:enroll|enrol|sign up|subscribe)\s+(?:someone|somebody|a contact|a person|a number|them|people"
    r"|(?P<name>[a-z][a-z'\-]{1,30}))?\s*(?:in|into|to|on|for)\s+(?:the\s+)?(?P<target>[^+0-9(].*)",
    re.IGNORECASE,
)
_WANTS_OUT = re.compile(
    rf"{_PHONE}\s+(?:wants|asked|would like|has asked)\s+(?:us\s+)?to\s+"
    r"(?:stop|unsubscribe|opt out|be removed)(?:\s+.*)?",
    re.IGNORECASE,
)
_SET_OUT = re.compile(
    rf"(?:set|mark|flag)\s+{_PHONE}\s+(?:as\s+)?(?:opted[\s-]out|unsubscribed)", re.IGNORECASE
)
_OPT_PHONE_OUT = re.compile(rf"opt\s+{_PHONE}\s+out", re.IGNORECASE)
_OPT_OUT_NOBODY = re.compile(
    r"(?:opt[\s-]?out|unsubscribe)(?:\s+(?:someone|somebody|a contact|a number|a person|them))?",
    re.IGNORECASE,
)
_TAG = re.compile(r"(?P<verb>tag|untag)\s+(?P<rest>.+)", re.IGNORECASE)
_TAG_OTHERWISE = re.compile(
    rf"(?:add|give|put)\s+(?:the\s+)?tags?\s+(?P<tags>.+?)\s+(?:to|on)\s+{_PHONE}"
    rf"|{_PHONE.replace('who', 'who4')}\s+(?:should be|is now|is a|is an)\s+(?:a\s+)?(?P<tags4>[a-z0-9_\-]+)"
    rf"|give\s+{_PHONE.replace('who', 'who2')}\s+(?:the\s+)?(?P<tags2>.+?)\s+tags?"
    rf"|(?:mark|label|flag)\s+{_PHONE.replace('who', 'who3')}\s+as\s+(?:a\s+)?(?P<tags3>.+)",
    re.IGNORECASE,
)
_REMOVE_FROM = re.compile(
    rf"(?:remove|take|drop)\s+{_PHONE}\s+(?:from|out of|off)\s+(?:the\s+)?(?P<target>[^\s]+)"
    r"(?:\s+(?P<kind>tag|group|list|segment|sequence|drip|flow|journey))?",
    re.IGNORECASE,
)
_REMOVE = re.compile(
    rf"(?:remove|take|drop|untag)\s+(?:the\s+)?(?:tags?\s+)?(?P<tags>.+?)\s+(?:from|off|off of)\s+{_PHONE}"
    rf"|(?:take|drop)\s+{_PHONE.replace('who', 'who2')}\s+off\s+(?:the\s+)?(?P<tags2>.+?)(?:\s+tags?)?",
    re.IGNORECASE,
)
_OPT_OUT = re.compile(
    r"(?:opt[\s-]?out|unsubscribe|stop (?:messaging|texting|sending to|contacting)"
    r"|don'?t message|do not message)\s+(?P<rest>.+)",
    re.IGNORECASE,
)
_SEQUENCE_KINDS = frozenset({"sequence", "drip", "flow", "journey"})
_ENROLL_VERBS = frozenset({"enroll", "enrol", "subscribe", "sign up", "sign"})
_TAG_WORDS = frozenset({"as", "with", "named", "called", "name", "tagged"})
_NAME = re.compile(r"[A-Za-z][A-Za-z .'\-]{0,40}")
_DELETE = re.compile(r"(?:delete|erase|remove|forget)\s+(?:the\s+)?(?:contact\s+)?[+(0-9][0-9 ()+.\-]*")
_SOMEONE = frozenset({"someone", "somebody", "a", "contact", "them", "him", "her", "the"})


def enroll(said: str, clean: str, ctx: Context) -> Command | Question | None:
    """Reads "enroll +91 98123 45678 in onboarding" and "add … to vip" (sequence or tag)."""
    match = _ENROLL.fullmatch(clean)
    if match is None:
        return _enroll_missing(clean, ctx)
    usage = messages.USAGE["sequence enroll"]
    phone = phone_in(match.group("who"), form="sequence enroll", usage=usage)
    if phone is None:
        return None
    target = match.group("target").strip('"')
    verb = match.group("verb").lower()
    kind = (match.group("kind") or "").lower()
    if verb in _ENROLL_VERBS or kind in _SEQUENCE_KINDS:
        return SequenceEnroll(names.sequence(target, ctx.vocabulary, usage=usage), phone)
    if kind:
        return ContactTag(phone, names.tags([target], usage=messages.USAGE["contacts tag"]))
    return _sequence_or_tag(phone, target, ctx)


def _enroll_missing(clean: str, ctx: Context) -> Command | Question | None:
    """ "enroll +91…" (in which sequence?) and "enroll someone in onboarding" (who?)."""
    usage = messages.USAGE["sequence enroll"]
    started = _START_FOR.fullmatch(clean)
    if started:
        phone = phone_in(started.group("who"), form="sequence enroll", usage=usage)
        if phone is not None:
            return SequenceEnroll(sequence_named(started.group("target"), clean, ctx), phone)
    nowhere = _ENROLL_NOWHERE.fullmatch(clean)
    if nowhere:
        phone = phone_in(nowhere.group("who"), form="sequence enroll", usage=usage)
        if phone is not None:
            known = sorted(ctx.vocabulary.sequences or ())
            asked = messages.ask_enroll_where(mask_phone(phone), known)
            return Question(
                asked, pending=PendingChange("enroll", "sequence", phone=phone, target="sequence")
            )
    nobody = _ENROLL_NOBODY.fullmatch(clean)
    if nobody:
        target = nobody.group("target").strip(" ?.!")
        for kind in (" sequence", " drip", " flow", " journey"):
            target = target.removesuffix(kind)
        sequence = sequence_named(target.strip('"'), clean, ctx)
        asked = messages.ask_phone_for("enroll", sequence)
        return Question(asked, pending=PendingChange("enroll", "phone", sequence=sequence, target="sequence"))
    return None


def _sequence_or_tag(phone: str, target: str, ctx: Context) -> Command | Question:
    """ "add <phone> to <target>": enroll when ``target`` is only a known sequence, tag when it
    is only a known tag, and ask when it could be either (tags can be new; a sequence
    must exist, so a near miss is offered by its right name).
    """
    sequences = ctx.vocabulary.sequences
    tags = ctx.vocabulary.tags or frozenset()
    by_lower = {s.lower(): s for s in sequences or ()}
    sequence = target if sequences is None else by_lower.get(target.lower())
    if sequence is not None and target.lower() not in tags and sequences is not None:
        return SequenceEnroll(sequence, phone)
    try:
        as_tag = ContactTag(phone, names.tags([target], usage=messages.USAGE["contacts tag"]))
    except UsageError:
        usage = messages.USAGE["sequence enroll"]
        return SequenceEnroll(names.sequence(target, ctx.vocabulary, usage=usage), phone)
    if target.lower() in tags and sequence is None:
        return as_tag
    offered = sequence or nearest(target, sequences or ())
    if offered is None:
        return as_tag
    return Question(
        messages.ask_sequence_or_tag(offered, target),
        choices=(SequenceEnroll(offered, phone), as_tag),
    )


def add_contact(said: str, clean: str, ctx: Context) -> Command | Question | None:
    """Reads "add contact +919812345678 named Asha tagged vip" (``name:``/``tags:`` work too)."""
    match = _ADD_CONTACT.fullmatch(clean)
    if match is None or not (match.group("number") or _starts_with_phone(match.group("rest"))):
        nobody = _ADD_NOBODY.fullmatch(clean)
        if nobody is None:
            return None
        name = nobody.group("name")
        written = (
            names.free_text(name, what="name", usage=messages.USAGE["contacts add"], field="name")
            if name
            else None
        )
        return Question(
            messages.ask_phone_for("add", written), pending=PendingChange("add", "phone", name=written)
        )
    usage = messages.USAGE["contacts add"]
    written = (match.group("rest") or match.group("number")).replace(", ", " ")
    args = split(tokenize(written.rstrip(","), usage=usage), usage=usage)
    args.only(("name", "tags"), form="contacts add", usage=usage)
    phone, end = take_phone(args.words, 0, form="contacts add", usage=usage)
    name_words: list[str] = []
    tag_words: list[str] = []
    into: list[str] | None = None
    for token in args.words[end:]:
        word = token.lower
        if word in ("named", "called", "name", "as") and into is not tag_words:
            into = name_words
        elif word in ("tagged", "tags", "tag", "with"):
            into = tag_words
        elif into is None:
            raise UsageError(messages.name_outside_option(token.text), usage=usage, field="name")
        else:
            into.append(token.text)
    name = " ".join(name_words) or (args.options["name"].value if "name" in args.options else "")
    raw_tags = [*tag_words, *([args.options["tags"].value] if "tags" in args.options else [])]
    return ContactAdd(
        phone=phone,
        name=names.free_text(name, what="name", usage=usage, field="name") if name else None,
        tags=names.tags(_without_fillers(raw_tags), usage=usage),
    )


def tag(said: str, clean: str, ctx: Context) -> Command | Question | None:  # noqa: PLR0911 - one per form
    """Reads "tag +919812345678 as vip", "untag +91… gold" and "remove vip from +91…"."""
    removed_from = _REMOVE_FROM.fullmatch(clean)
    if removed_from:
        return _remove_from(removed_from, ctx)
    removed = _REMOVE.fullmatch(clean)
    if removed:
        usage = messages.USAGE["contacts untag"]
        phone = phone_in(removed.group("who") or removed.group("who2"), form="contacts untag", usage=usage)
        if phone is None:
            return None
        said_tags = removed.group("tags") or removed.group("tags2")
        return ContactUntag(phone, names.tags(_without_fillers([said_tags]), usage=usage))
    other = _TAG_OTHERWISE.fullmatch(clean)
    if other:
        return _tag_otherwise(other)
    match = _TAG.fullmatch(clean)
    if match is None:
        return None
    verb = match.group("verb").lower()
    form = f"contacts {verb}"
    usage = messages.USAGE[form]
    words = tokenize(match.group("rest"), usage=usage)
    if not words or not looks_like_phone(words[0]):
        return _tag_whom(verb, [t.text for t in words], usage)
    phone, end = take_phone(words, 0, form=form, usage=usage)
    raw = [t.text for t in words[end:] if t.lower not in _TAG_WORDS]
    found = names.tags(_without_fillers(raw), usage=usage)
    if not found:
        asked = messages.ask_tags_for(verb, mask_phone(phone))
        return Question(
            asked, pending=PendingChange("tag" if verb == "tag" else "untag", "tags", phone=phone)
        )
    return ContactTag(phone, found) if verb == "tag" else ContactUntag(phone, found)


def _tag_otherwise(match: re.Match[str]) -> Command | None:
    """ "add tag gold to +91…", "give +91… the vip tag", "mark +91… as vip"."""
    usage = messages.USAGE["contacts tag"]
    written = match.group("who") or match.group("who2") or match.group("who3") or match.group("who4")
    phone = phone_in(written, form="contacts tag", usage=usage)
    if phone is None:
        return None
    said_tags = match.group("tags") or match.group("tags2") or match.group("tags3") or match.group("tags4")
    found = names.tags(_without_fillers([said_tags]), usage=usage)
    return ContactTag(phone, found) if found else None


def _remove_from(match: re.Match[str], ctx: Context) -> Command | None:
    """ "remove +91… from vip" untags; from a sequence it is refused (chat cannot end an
    enrollment early; an opt-out ends them all).
    """
    usage = messages.USAGE["contacts untag"]
    phone = phone_in(match.group("who"), form="contacts untag", usage=usage)
    if phone is None:
        return None
    target = match.group("target").strip('"')
    kind = (match.group("kind") or "").lower()
    sequences = {s.lower() for s in ctx.vocabulary.sequences or ()}
    tags = ctx.vocabulary.tags or frozenset()
    if kind in _SEQUENCE_KINDS or (target.lower() in sequences and target.lower() not in tags):
        raise UsageError(messages.cannot_unenroll(target), usage=messages.USAGE["contacts optout"])
    return ContactUntag(phone, names.tags([target], usage=usage))


def _tag_whom(verb: str, words: list[str], usage: str) -> Question | None:
    """ "tag someone as vip": whose number? Only when the rest reads as tags."""
    raw = [w for w in words if w.lower() not in _TAG_WORDS and w.lower() not in _SOMEONE]
    if not raw or not looks_like_audience([w.lower() for w in raw]):
        return None
    found = names.tags(_without_fillers(raw), usage=usage)
    if not found:
        return None
    pending = PendingChange("tag" if verb == "tag" else "untag", "phone", tags=found)
    return Question(messages.ask_phone_for(verb, None, list(found)), pending=pending)


def opt_out(said: str, clean: str, ctx: Context) -> Command | Question | None:
    """Reads "opt out +919812345678" and "unsubscribe +91 98123 45678"."""
    wants = _WANTS_OUT.fullmatch(clean) or _OPT_PHONE_OUT.fullmatch(clean) or _SET_OUT.fullmatch(clean)
    if wants:
        phone = phone_in(wants.group("who"), form="contacts optout", usage=messages.USAGE["contacts optout"])
        return ContactOptOut(phone) if phone else None
    if _OPT_OUT_NOBODY.fullmatch(clean):
        return Question(messages.ask_phone_for("optout"), pending=PendingChange("optout", "phone"))
    match = _OPT_OUT.fullmatch(clean)
    if match is None:
        return None
    usage = messages.USAGE["contacts optout"]
    phone = phone_in(match.group("rest"), form="contacts optout", usage=usage)
    if phone is None and _NAME.fullmatch(match.group("rest")):  # "unsubscribe priya": which number?
        return Question(messages.ask_phone_for("optout"), pending=PendingChange("optout", "phone"))
    return ContactOptOut(phone) if phone else None


def _starts_with_phone(text: str | None) -> bool:
    return text is not None and text.strip()[:1] in tuple("+(0123456789")


def _without_fillers(raw: list[str]) -> list[str]:
    parts = [p for item in raw for p in re.split(r"[,\s]+", item.lower()) if p]
    return [p for p in parts if p not in AUDIENCE_FILLERS and p not in CONNECTORS]


def unsupported(said: str, clean: str, ctx: Context) -> Command | None:
    """ "delete +91…": said plainly that chat cannot, and what can (never read as another change)."""
    if _DELETE.fullmatch(said):
        raise UsageError(messages.cannot_delete_contact(), usage=messages.USAGE["contacts"])
    return None
