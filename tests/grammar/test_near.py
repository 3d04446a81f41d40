"""The quick closest name is as close as the one-by-one comparison's, for typos (among names
equally close, either may be offered)."""

from __future__ import annotations

from difflib import SequenceMatcher

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.grammar.near import SMALL, nearest
from engine.suggest import closest

_CITIES = ("delhi", "mumbai", "pune", "chennai", "kolkata", "jaipur", "lucknow", "surat", "indore", "goa")
_THINGS = ("shoes", "sarees", "phones", "books", "toys", "tea", "coffee", "watches", "bags", "laptops")
_KINDS = ("buyers", "leads", "vip")
NAMES = frozenset(
    [f"{city}-{thing}-{kind}" for city in _CITIES for thing in _THINGS for kind in _KINDS]
    + ["vip", "gold", "new", "diwali-2026", "promo_autumn", "promo_winter", "welcome_offer"]
    + ["order_update", "onboarding", "spring_welcome", "black_friday", "cyber_monday"]
)


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(sorted(NAMES)),
    at=st.integers(0, 30),
    kind=st.sampled_from(["drop", "double", "swap", "replace", "none"]),
)
def test_a_typo_finds_the_name_the_full_comparison_finds(name: str, at: int, kind: str) -> None:
    chars = list(name)
    i = at % len(chars)
    if kind == "drop" and len(chars) > 2:
        del chars[i]
    elif kind == "double":
        chars.insert(i, chars[i])
    elif kind == "swap" and i + 1 < len(chars):
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    elif kind == "replace":
        chars[i] = "x"
    typo = "".join(chars)
    quick, full = nearest(typo, NAMES), closest(typo, NAMES)
    assert (quick is None) == (full is None)
    if quick is not None and full is not None:
        assert _likeness(typo, quick) == _likeness(typo, full)


def _likeness(word: str, name: str) -> float:
    return SequenceMatcher(None, word.lower(), name.lower()).ratio()


def test_small_sets_are_compared_one_by_one() -> None:
    few = frozenset(list(NAMES)[:SMALL])
    for word in ("segmnt-1", "vpi", "zzz", ""):
        assert nearest(word, few) == closest(word, few)
