"""Finding a phone number among the words of a command.

Chat faces let people type ``+91 98123 45678`` with spaces, so a number may span
several words. The longest run of number-like words that is a valid number wins,
which keeps a numeric tag after a complete number (``+919812345678 2026``) a tag.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.grammar import messages
from bot.grammar.tokens import Token
from engine.errors import Invalid, UsageError
from engine.phones import normalize_phone

_FIRST = re.compile(r"[+(0-9][0-9()+.\-]*", re.ASCII)
_MORE = re.compile(r"[(0-9][0-9().\-]*", re.ASCII)
MAX_PARTS = 6


def looks_like_phone(token: Token) -> bool:
    """Whether ``token`` could start a phone number (``+91``, ``(+91)``, ``0091``)."""
    return not token.quoted and token.key is None and bool(_FIRST.fullmatch(token.text))


def take_phone(words: Sequence[Token], start: int, *, form: str, usage: str) -> tuple[str, int]:
    """The E.164 number starting at ``words[start]`` and the index just after it.

    Raises UsageError when no number starts there, or with the reason the number
    is refused (the number itself masked).
    """
    if start >= len(words) or not looks_like_phone(words[start]):
        raise UsageError(messages.needs_phone(form), usage=usage, field="phone")
    end = start + 1
    while (
        end < len(words)
        and end - start < MAX_PARTS
        and not words[end].quoted
        and words[end].key is None
        and _MORE.fullmatch(words[end].text)
    ):
        end += 1
    refusal: Invalid | None = None
    for stop in range(end, start, -1):
        candidate = " ".join(w.text for w in words[start:stop])
        try:
            return normalize_phone(candidate), stop
        except Invalid as exc:
            refusal = refusal or exc
    reason = refusal.render() if refusal else messages.needs_phone(form)
    raise UsageError(messages.bad_phone(reason), usage=usage, field="phone") from refusal
