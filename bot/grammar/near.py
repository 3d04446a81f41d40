"""The closest known name, quickly, however many names a workspace has.

``engine.suggest.closest`` compares the word with every name; over a workspace's
thousands of tags that is milliseconds a message. Here, a large set of names
is indexed once by its letter pairs (kept while the names stay the same), and
only the names sharing the most telling pairs with the word (a pair few names
have counts for more) are compared: as close an answer in the cases that matter
(a typo keeps most pairs), in microseconds.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

from engine.suggest import closest

SMALL = 64  # names compared one by one below this
SHORTLIST = 32  # names compared in full above it


def nearest(word: str, names: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The name most like ``word`` (as ``engine.suggest.closest`` chooses), or None."""
    pool = names if isinstance(names, frozenset) else frozenset(names)
    if len(pool) <= SMALL or not word:
        return closest(word, pool, cutoff=cutoff)
    lowered = word.lower()
    exact, by_pair = _index(pool)
    if lowered in exact:
        return exact[lowered]
    prefixed = [n for n in pool if n.lower().startswith(lowered)]
    if len(prefixed) == 1:
        return prefixed[0]
    score: dict[str, float] = defaultdict(float)
    for pair in set(_pairs(lowered)):
        holders = by_pair.get(pair, ())
        for name in holders:  # a pair few names have says more than one they all have
            score[name] += 1 / len(holders)
    size = len(lowered)
    shortlist = heapq.nlargest(SHORTLIST, score, key=lambda name: (score[name], -abs(len(name) - size)))
    return closest(word, shortlist, cutoff=cutoff)


@lru_cache(maxsize=16)
def _index(names: frozenset[str]) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    exact = {n.lower(): n for n in names}
    by_pair: dict[str, list[str]] = {}
    for name in names:
        for pair in set(_pairs(name.lower())):
            by_pair.setdefault(pair, []).append(name)
    return exact, {pair: tuple(found) for pair, found in by_pair.items()}


def _pairs(text: str) -> list[str]:
    padded = f" {text} "
    return [padded[i : i + 2] for i in range(len(padded) - 1)]
