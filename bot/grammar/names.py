"""Template, tag, sequence and language names: their shape, and the known names to check.

A ``Vocabulary`` is data the face loads (known template names, tag names,
sequence names). When a set is given, a name outside it is refused with the
closest known name as the suggestion; when it is None, names are accepted as
written. Tags are only checked where they select people (a broadcast audience,
a count): ``contacts add`` and ``contacts tag`` may create new tags.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.grammar import messages
from bot.grammar.near import nearest
from engine.errors import Invalid, UsageError
from engine.tags import normalize_tag

MAX_NAME = 200
_TEMPLATE = re.compile(r"[a-z0-9_]{1,512}", re.ASCII)
_LANGUAGE = re.compile(r"(?P<lang>[a-z]{2,3})(?:[_-](?P<region>[a-z0-9]{2,4}))?", re.ASCII)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Known names, for checking and for "did you mean". None means "don't check"."""

    templates: frozenset[str] | None = None
    tags: frozenset[str] | None = None
    sequences: frozenset[str] | None = None

    @classmethod
    def of(
        cls,
        *,
        templates: Iterable[str] | None = None,
        tags: Iterable[str] | None = None,
        sequences: Iterable[str] | None = None,
    ) -> Vocabulary:
        """Build one from any iterables; tags are normalised as the parser normalises them."""
        return cls(
            templates=None if templates is None else frozenset(t.lower() for t in templates),
            tags=None if tags is None else frozenset(t.strip().lower() for t in tags),
            sequences=None if sequences is None else frozenset(sequences),
        )


NO_VOCABULARY = Vocabulary()


def template(word: str, vocabulary: Vocabulary, *, usage: str) -> str:
    """The template name ``word`` stands for (lower-cased). Raises UsageError when it
    cannot be a template name or is not in the vocabulary.
    """
    name = word.lower()
    known = vocabulary.templates
    if not _TEMPLATE.fullmatch(name):
        guess = nearest(name, known) if known else None
        raise UsageError(messages.bad_template_name(word), usage=usage, suggestion=guess, field="template")
    if known is not None and name not in known:
        raise UsageError(
            messages.unknown_template(name),
            usage=usage,
            suggestion=nearest(name, known),
            field="template",
        )
    return name


def template_candidates(word: str, vocabulary: Vocabulary) -> list[str]:
    """Known templates ``word`` could be short for (``promo`` → promo_autumn, promo_winter)."""
    name = word.lower()
    if not vocabulary.templates:
        return []
    return sorted(t for t in vocabulary.templates if t.startswith(name) or name in t.split("_"))


def tags(raw: Iterable[str], *, usage: str, check: Vocabulary | None = None) -> tuple[str, ...]:
    """Normalised, de-duplicated tags. With ``check``, every tag must be known there.

    Raises UsageError for an unreadable tag, or unknown ones (suggesting the
    whole corrected list when every unknown tag has a close match).
    """
    found: dict[str, None] = {}
    for item in raw:
        for part in item.split(","):
            if part.strip():
                found[_tag(part, usage)] = None
    result = tuple(found)
    known = check.tags if check is not None else None
    if known is None:
        return result
    unknown = [t for t in result if t not in known]
    if not unknown:
        return result
    fixes = {t: nearest(t, known) for t in unknown}
    suggestion = None
    if all(fixes.values()):
        suggestion = "tags:" + ",".join(fixes.get(t) or t for t in result)
    raise UsageError(messages.unknown_tags(unknown), usage=usage, suggestion=suggestion, field="tags")


def sequence(word: str, vocabulary: Vocabulary, *, usage: str) -> str:
    """The sequence ``word`` names (the vocabulary's spelling when it is known, any case)."""
    known = vocabulary.sequences
    if known is None:
        return word
    by_lower = {s.lower(): s for s in known}
    if word.lower() in by_lower:
        return by_lower[word.lower()]
    raise UsageError(
        messages.unknown_sequence(word),
        usage=usage,
        suggestion=nearest(word, known),
        field="sequence",
    )


def language(word: str, *, usage: str) -> str:
    """``en``, ``en_US``, ``pt-br`` → ``pt_BR``. Raises UsageError for anything else."""
    match = _LANGUAGE.fullmatch(word.lower())
    if not match:
        raise UsageError(messages.bad_language(word), usage=usage, field="lang")
    region = match.group("region")
    return match.group("lang") + (f"_{region.upper()}" if region else "")


def free_text(value: str, *, what: str, usage: str, field: str) -> str:
    """A name as written (trimmed); raises UsageError when empty or longer than MAX_NAME."""
    text = value.strip()
    if not text:
        raise UsageError(messages.option_empty(field), usage=usage, field=field)
    if len(text) > MAX_NAME:
        raise UsageError(messages.value_too_long(what, MAX_NAME), usage=usage, field=field)
    return text


def _tag(raw: str, usage: str) -> str:
    try:
        return normalize_tag(raw)
    except Invalid as exc:
        raise UsageError(messages.bad_tag(raw), usage=usage, field="tags") from exc
