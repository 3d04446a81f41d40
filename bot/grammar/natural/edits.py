"""Follow-up edits to the broadcast just previewed: "make it 10am instead".

    make it 10am instead / at 10 instead   → same day, new time (when it had a time)
    move it to tomorrow                    → new day, same time
    send it now / make it a draft          → new kind of schedule
    send it to gold instead / tags vip only → new audience
    use promo_winter instead               → new template
    call it "Diwali promo"                 → new name

An edit needs a cue (a verb like "make it" or "change it to", or "instead");
the strong cues ("make it", "change it", "move it", "reschedule", "instead") with
no broadcast to change are refused, the others are read as new requests.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, time

from bot.grammar import messages, names
from bot.grammar.commands import BroadcastCreate, Command, Question, Schedule, ScheduleKind
from bot.grammar.context import Context
from bot.grammar.phrasing import (
    AUDIENCE_FILLERS,
    CONNECTORS,
    DRAFT_PHRASES,
    NOW_PHRASES,
    audience,
    is_time_word,
    looks_like_audience,
)
from bot.grammar.times import read_time
from engine.errors import UsageError
from engine.schedule import zone

_STRONG = (
    "make it",
    "make that",
    "change it to",
    "change that to",
    "change the time to",
    "change it",
    "move it to",
    "move it",
    "reschedule it to",
    "reschedule it for",
    "reschedule to",
    "reschedule for",
    "reschedule it",
    "push it to",
)
_WEAK = (
    "schedule it for",
    "schedule it at",
    "send it to",
    "send it",
    "do it",
    "let's do",
    "lets do",
    "how about",
    "what about",
    "use",
    "switch to",
    "call it",
    "name it",
    "rename it to",
    "rename it",
)
_NAMING = frozenset({"call it", "name it", "rename it to", "rename it"})
_TEMPLATE_VERBS = frozenset({"use", "switch to"})
_CUE = re.compile(
    r"(?:(?:no|nah|actually|wait|oh|hmm|sorry|ok|okay|please)[,\s]+)*"
    rf"(?:(?P<verb>{'|'.join(re.escape(v) for v in _STRONG + _WEAK)})\s+)?"
    r"(?P<what>.+?)(?P<instead>[\s,]+instead)?",
    re.IGNORECASE,
)
_TEMPLATE_WORD = re.compile(r"(?:the\s+)?(?P<a>\S+)\s+template|template\s+(?P<b>\S+)")
USAGE = messages.USAGE["broadcast"]
_AUDIENCE = re.compile(r"(?:to|for|tags:?|only)\s+(?P<a>.+)|(?P<b>.+?)\s+only")


def edit(previous: Command | Question | None, said: str, clean: str, ctx: Context) -> Command | None:
    """``previous`` changed as ``clean`` asks, or None when ``clean`` is not an edit.

    Raises UsageError when it is clearly an edit but there is nothing to change, or
    the change does not read (an unknown tag, a time that has passed, …).
    """
    match = _CUE.fullmatch(clean.strip())
    if match is None:
        return None
    verb = (match.group("verb") or "").lower()
    strong = verb in _STRONG or bool(match.group("instead"))
    at_phrase = isinstance(previous, BroadcastCreate) and said.startswith("at ")
    if not (strong or verb or at_phrase):
        return None
    if not isinstance(previous, BroadcastCreate):
        if strong:
            raise UsageError(messages.nothing_to_change(), usage=messages.USAGE["broadcast"])
        return None
    return _apply(previous, verb, match.group("what").strip(), ctx)


def _apply(previous: BroadcastCreate, verb: str, what: str, ctx: Context) -> BroadcastCreate:
    lowered = what.lower().strip(" .!")
    for change in (_renamed, _rescheduled_by_word, _new_template, _new_audience, _known_word):
        edited = change(previous, verb, what, lowered, ctx)
        if edited is not None:
            return edited
    if not any(is_time_word(w, ctx) for w in lowered.split()):
        raise UsageError(messages.cannot_change(), usage=USAGE)
    return replace(previous, schedule=_new_time(previous, lowered, ctx))


def _renamed(
    previous: BroadcastCreate, verb: str, what: str, lowered: str, ctx: Context
) -> BroadcastCreate | None:
    if verb not in _NAMING:
        return None
    name = names.free_text(what.strip("\"' "), what="name", usage=USAGE, field="name")
    return replace(previous, name=name)


def _rescheduled_by_word(
    previous: BroadcastCreate, verb: str, what: str, lowered: str, ctx: Context
) -> BroadcastCreate | None:
    if lowered in NOW_PHRASES:
        return replace(previous, schedule=Schedule(ScheduleKind.NOW, ctx.tz))
    if lowered in DRAFT_PHRASES:
        return replace(previous, schedule=Schedule(ScheduleKind.DRAFT, ctx.tz))
    return None


def _new_template(
    previous: BroadcastCreate, verb: str, what: str, lowered: str, ctx: Context
) -> BroadcastCreate | None:
    match = _TEMPLATE_WORD.fullmatch(lowered)
    if verb not in _TEMPLATE_VERBS and match is None:
        return None
    word = (match.group("a") or match.group("b")) if match else lowered
    return replace(previous, template=names.template(word, ctx.vocabulary, usage=USAGE))


def _new_audience(
    previous: BroadcastCreate, verb: str, what: str, lowered: str, ctx: Context
) -> BroadcastCreate | None:
    match = _AUDIENCE.fullmatch(lowered)
    if verb != "send it to" and match is None:
        return None
    said = (match.group("a") or match.group("b")) if match else lowered
    tags = audience(said.split(), ctx, usage=USAGE)
    if not tags:
        raise UsageError(messages.needs_audience(previous.template), usage=USAGE, field="tags")
    return replace(previous, tags=tags)


def _known_word(
    previous: BroadcastCreate, verb: str, what: str, lowered: str, ctx: Context
) -> BroadcastCreate | None:
    """Names the vocabulary knows: "make it promo_winter", "change it to new and gold"."""
    known = ctx.vocabulary
    if known.templates is not None and lowered in known.templates:
        return replace(previous, template=lowered)
    words = lowered.split()
    if known.tags is None or not looks_like_audience(words):
        return None
    tags = audience(words, ctx, usage=USAGE) if _all_known_tags(words, known.tags) else ()
    return replace(previous, tags=tags) if tags else None


def _all_known_tags(words: list[str], known: frozenset[str]) -> bool:
    parts = [p for w in words for p in w.split(",") if p]
    kept = [p for p in parts if p not in AUDIENCE_FILLERS and p not in CONNECTORS]
    return bool(kept) and all(p in known for p in kept)


def _new_time(previous: BroadcastCreate, phrase: str, ctx: Context) -> Schedule:
    """The schedule ``phrase`` names, keeping the previous day for a bare clock time and the
    previous clock time for a bare day, when the previous schedule had a time.
    """
    for word in ("for ", "on "):
        phrase = phrase.removeprefix(word)
    default_day: date | None = None
    default_clock: time | None = None
    before = previous.schedule
    tz = before.timezone or ctx.tz  # "make it 10am" keeps the zone the time was written in
    if before.at is not None:
        local = before.at.astimezone(zone(tz))
        default_day, default_clock = local.date(), local.time().replace(tzinfo=None)
    moment = read_time(
        phrase.removeprefix("at "),
        now=ctx.now,
        tz=tz,
        default_day=default_day,
        default_clock=default_clock,
    )
    return Schedule(ScheduleKind.AT, moment.timezone, at=moment.at, written=phrase)
