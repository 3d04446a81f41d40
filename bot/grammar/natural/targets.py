"""What a phrase points at: a phone number, a sequence, a broadcast by number or by name.

broadcast 3 / #3 / campaign #3         → BroadcastAction(action, 3)
the onboarding sequence / onboarding   → SequenceAction(action, "onboarding") (a known name)
the spring one                         → the one sequence whose name has "spring", else a question
the diwali promo / the diwali one      → BroadcastFind("diwali promo", action=…), resolved by the
                                         face against the broadcasts that exist
"""

from __future__ import annotations

import re
from typing import cast

from bot.grammar import messages, names
from bot.grammar.commands import (
    BroadcastAction,
    BroadcastFind,
    BroadcastVerb,
    ChangeVerb,
    Command,
    PendingChange,
    Question,
    SequenceAction,
    SequenceVerb,
    TemplateList,
)
from bot.grammar.context import Context
from bot.grammar.natural.nouns import noun_of
from bot.grammar.near import nearest
from bot.grammar.phones import take_phone
from bot.grammar.tokens import tokenize
from engine.errors import UsageError

_NUMBER = re.compile(
    r"(?:(?:broadcast|campaign|blast)\s+)?(?:no\.?\s+|number\s+)?#?(?P<id>[0-9]{1,18})", re.ASCII
)
_FILLER = frozenset({"the", "our", "my", "this", "that", "one", "a", "an", "please", "it", "named", "called"})
_SEQUENCE_VERBS: dict[str, SequenceVerb] = {
    "show": "show",
    "stats": "show",
    "pause": "pause",
    "cancel": "pause",
    "activate": "activate",
    "resume": "activate",
    "send": "activate",
}
_PHONEISH = re.compile(r"\+?[0-9][0-9 ().\-]{6,}[0-9]")
# "the last broadcast": the newest one (the command layer knows which)
LATEST = frozenset(
    {"last", "latest", "newest", "most recent", "recent", "last broadcast", "latest broadcast"}
)
LATEST_NAME = "latest"
_ALL = frozenset({"all", "every", "everything", "each", "both"})
PRONOUNS = frozenset({"it", "this", "that", "them", "one", "this one", "that one"})


def phone_in(text: str, *, form: str, usage: str) -> str | None:
    """The number when ``text`` is one phone number and nothing else, else None.

    Raises UsageError when it is a number but a refused one (masked).
    """
    words = tokenize(text.strip(" ?"), usage=usage)
    if not words:
        return None
    try:
        phone, end = take_phone(words, 0, form=form, usage=usage)
    except UsageError:
        if any(c.isdigit() for c in text) and text.strip()[:1] in "+0123456789(" and len(words) <= 6:
            raise
        return None
    return phone if end == len(words) else None


def named_thing(text: str, ctx: Context, *, action: str = "show") -> Command | Question | None:  # noqa: PLR0911
    """The broadcast, sequence or template ``text`` names, with ``action`` to do to it; None when
    ``text`` names nothing (a pronoun, filler).
    """
    words = [w for w in text.strip(" ?!.").split() if w not in _FILLER]
    if not words or _PHONEISH.search(text):
        return None  # nothing named, or a person ("stop messaging +91…") rather than a broadcast
    if words[0] in _ALL and action != "show":  # "pause every sequence": one at a time, which?
        sequences = any(noun_of(w) == "sequence" for w in words)
        return _which_one(action, "sequence" if sequences else "broadcast")
    if " ".join(words) in LATEST:
        return BroadcastFind(template_or_name=LATEST_NAME, action=cast(BroadcastVerb, action))
    number = _NUMBER.fullmatch(" ".join(words))
    if number and int(number.group("id")) > 0:
        return BroadcastAction(cast(BroadcastVerb, action), int(number.group("id")))
    kind = noun_of(words[-1]) or noun_of(words[0])
    if kind is not None:
        words = [w for w in words if noun_of(w) is None]
    if not words or kind in ("contact", "enrollment", "stats"):
        return None
    written = " ".join(words)
    if kind == "template":
        if action != "show":
            return None
        return TemplateList(
            name=names.template("_".join(words), ctx.vocabulary, usage=messages.USAGE["templates"])
        )
    if kind == "sequence" or (kind is None and _is_sequence(written, ctx)):
        return _sequence_action(written, action, ctx)
    return BroadcastFind(template_or_name=written, action=cast(BroadcastVerb, action))


def _which_one(action: str, kind: str) -> Question:
    verb = cast(ChangeVerb, action)
    if kind == "sequence":
        pending = PendingChange(verb, "sequence", target="sequence")
        return Question(messages.ask_which_sequence(action), pending=pending)
    pending = PendingChange(verb, "broadcast", target="broadcast")
    return Question(messages.ask_which_broadcast(action), pending=pending)


def sequence_named(written: str, clean: str, ctx: Context) -> str:
    """The sequence ``written`` names: a known name in any case, the one whose words contain it,
    or (with no vocabulary) as the person capitalised it. Raises UsageError with the closest
    name otherwise.
    """
    known = ctx.vocabulary.sequences
    if known is None:
        index = clean.lower().find(written.lower())
        return clean[index : index + len(written)] if index >= 0 else written
    candidates = _sequences_like(written, known)
    if len(candidates) == 1:
        return candidates[0]
    return names.sequence(written, ctx.vocabulary, usage=messages.USAGE["sequence"])


def _sequence_action(written: str, action: str, ctx: Context) -> Command | Question:
    verb = _SEQUENCE_VERBS.get(action)
    if verb is None:
        return Question(messages.sequences_cannot(action))
    known = ctx.vocabulary.sequences
    candidates = _sequences_like(written, known) if known is not None else []
    if len(candidates) > 1:
        return Question(
            messages.ask_which(written), choices=tuple(SequenceAction(verb, c) for c in candidates)
        )
    return SequenceAction(verb, sequence_named(written, written, ctx))


def _is_sequence(written: str, ctx: Context) -> bool:
    """A name the vocabulary knows as a sequence (and not as a template)."""
    known = ctx.vocabulary.sequences
    if not known:
        return False
    templates = ctx.vocabulary.templates or frozenset()
    return bool(_sequences_like(written, known)) and written.replace(" ", "_") not in templates


def _sequences_like(written: str, known: frozenset[str]) -> list[str]:
    """Known sequences named ``written`` (any case), else those with all its words, else the
    closest spelling.
    """
    wanted = written.lower()
    exact = [s for s in known if s.lower() == wanted]
    if exact:
        return exact
    words = wanted.replace("_", " ").split()
    containing = sorted(s for s in known if all(w in s.lower().replace("_", " ").split() for w in words))
    if containing:
        return containing
    near = nearest(wanted, known, cutoff=0.8)
    return [near] if near else []
