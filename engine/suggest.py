"""Closest-name suggestions for "did you mean ...?" answers."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The choice most like ``word``, or None when nothing is close enough."""
    pool = list(dict.fromkeys(choices))
    if not word or not pool:
        return None
    lowered = {c.lower(): c for c in pool}
    if word.lower() in lowered:
        return lowered[word.lower()]
    prefixed = [c for c in pool if c.lower().startswith(word.lower())]
    if len(prefixed) == 1:
        return prefixed[0]
    found = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[found[0]] if found else None
