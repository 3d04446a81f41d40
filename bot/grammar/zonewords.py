"""Time zones written inside a time phrase: ``9am IST``, ``18:30 Europe/Berlin``, ``9am New York time``.

    zone     := IANA name (any case)            Europe/Berlin, america/new_york
              | abbreviation (ABBREVIATIONS)    IST, CET, EST, PT, SGT…
              | <city> time | in <city>         New York time, in London, Mumbai time
              | my time | local time            the asker's own zone

An abbreviation names a region's clock and the offset it stands for: ``EST`` is
America/New_York at UTC−5. When the region is on a different offset at the time
named (``9am EST`` in July, when New York is on EDT), or when the abbreviation
belongs to several regions (``CST``: Chicago or Shanghai), the reader does not
guess: it raises ``Ambiguous`` with the unambiguous phrasings to choose from.
The zones themselves are looked up through ``engine.schedule`` (one zone lookup).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from zoneinfo import available_timezones

from bot.grammar import messages
from engine.errors import UsageError
from engine.suggest import closest

H = timedelta(hours=1)

# abbreviation → (IANA zone, the UTC offset the abbreviation stands for; None: the zone's clock)
ABBREVIATIONS: dict[str, tuple[str, timedelta | None]] = {
    "utc": ("UTC", None),
    "gmt": ("Europe/London", timedelta(0)),
    "bst": ("Europe/London", H),
    "wet": ("Europe/Lisbon", timedelta(0)),
    "west": ("Europe/Lisbon", H),
    "cet": ("Europe/Berlin", H),
    "cest": ("Europe/Berlin", 2 * H),
    "eet": ("Europe/Athens", 2 * H),
    "eest": ("Europe/Athens", 3 * H),
    "msk": ("Europe/Moscow", 3 * H),
    "gst": ("Asia/Dubai", 4 * H),
    "pkt": ("Asia/Karachi", 5 * H),
    "ist": ("Asia/Kolkata", timedelta(hours=5, minutes=30)),
    "npt": ("Asia/Kathmandu", timedelta(hours=5, minutes=45)),
    "ict": ("Asia/Bangkok", 7 * H),
    "wib": ("Asia/Jakarta", 7 * H),
    "sgt": ("Asia/Singapore", 8 * H),
    "myt": ("Asia/Kuala_Lumpur", 8 * H),
    "hkt": ("Asia/Hong_Kong", 8 * H),
    "pht": ("Asia/Manila", 8 * H),
    "awst": ("Australia/Perth", 8 * H),
    "jst": ("Asia/Tokyo", 9 * H),
    "kst": ("Asia/Seoul", 9 * H),
    "aest": ("Australia/Sydney", 10 * H),
    "aedt": ("Australia/Sydney", 11 * H),
    "nzst": ("Pacific/Auckland", 12 * H),
    "nzdt": ("Pacific/Auckland", 13 * H),
    "sast": ("Africa/Johannesburg", 2 * H),
    "brt": ("America/Sao_Paulo", -3 * H),
    "et": ("America/New_York", None),
    "est": ("America/New_York", -5 * H),
    "edt": ("America/New_York", -4 * H),
    "ct": ("America/Chicago", None),
    "cdt": ("America/Chicago", -5 * H),
    "mt": ("America/Denver", None),
    "mst": ("America/Denver", -7 * H),
    "mdt": ("America/Denver", -6 * H),
    "pt": ("America/Los_Angeles", None),
    "pst": ("America/Los_Angeles", -8 * H),
    "pdt": ("America/Los_Angeles", -7 * H),
    "akst": ("America/Anchorage", -9 * H),
    "akdt": ("America/Anchorage", -8 * H),
    "hst": ("Pacific/Honolulu", -10 * H),
}
# abbreviations several regions use: asked back, never guessed
AMBIGUOUS: dict[str, tuple[str, ...]] = {
    "cst": ("America/Chicago", "Asia/Shanghai"),
    "ast": ("America/Halifax", "Asia/Riyadh"),
}
CITIES: dict[str, str] = {
    **dict.fromkeys(("mumbai", "bombay", "delhi", "new delhi", "bangalore", "bengaluru"), "Asia/Kolkata"),
    **dict.fromkeys(("chennai", "hyderabad", "pune", "india"), "Asia/Kolkata"),
    **dict.fromkeys(("nyc", "new york city", "boston", "washington", "dc", "miami"), "America/New_York"),
    **dict.fromkeys(("san francisco", "sf", "seattle", "la", "california"), "America/Los_Angeles"),
    **dict.fromkeys(("texas", "dallas", "houston"), "America/Chicago"),
    **dict.fromkeys(("beijing", "shenzhen", "china"), "Asia/Shanghai"),
    **dict.fromkeys(("abu dhabi", "uae"), "Asia/Dubai"),
    **dict.fromkeys(("uk", "britain", "england"), "Europe/London"),
    **dict.fromkeys(("pacific", "us pacific", "west coast"), "America/Los_Angeles"),
    **dict.fromkeys(("eastern", "us eastern", "east coast"), "America/New_York"),
    **dict.fromkeys(("central", "us central"), "America/Chicago"),
    **dict.fromkeys(("mountain", "us mountain"), "America/Denver"),
    **dict.fromkeys(("indian", "india standard"), "Asia/Kolkata"),
    "frankfurt": "Europe/Berlin",
    "munich": "Europe/Berlin",
    "germany": "Europe/Berlin",
    "france": "Europe/Paris",
    "japan": "Asia/Tokyo",
    "sydney": "Australia/Sydney",
    "riyadh": "Asia/Riyadh",
}
# words before "time" that mean the asker's own zone ("9am my time"), or no place at all
OWN = frozenset({"my", "our", "local", "your", "usual", "same", "this", "that", "the", "a", "any", "what"})
_REGIONS = ("Africa/", "America/", "Asia/", "Atlantic/", "Australia/", "Europe/", "Indian/", "Pacific/")
_UNITS = frozenset({"minute", "minutes", "min", "mins", "hour", "hours", "hr", "hrs", "day", "days"})
_WORD = re.compile(r"\(?(?P<word>[a-z]{2,5})\)?")
MAX_PLACE_WORDS = 3
BARE_PLACE = 4  # a place written without "in" or "time" must be this long (not "la", "sf", "uk")


class Ambiguous(UsageError):
    """A phrase that reads more than one way; ``readings`` are phrasings that read one way each."""

    def __init__(self, message: str, readings: tuple[str, ...], *, usage: str = "") -> None:
        super().__init__(message, usage=usage, suggestion=readings[0] if readings else None, field="time")
        self.readings = readings


@dataclass(frozen=True, slots=True)
class ZoneSaid:
    """The zone a phrase named: ``timezone`` (IANA), the ``offset`` its abbreviation stands for
    (None: the zone's own clock), and the words as written, for asking back.
    """

    timezone: str
    offset: timedelta | None = None
    written: str = ""


def split_zone(phrase: str) -> tuple[str, ZoneSaid | None]:
    """``phrase`` (tidied: lower case, single spaces) without the zone it names, and that zone.

    Returns ``(phrase, None)`` when no zone is named or the asker's own one is
    (``my time``). Raises Ambiguous for an abbreviation several regions use, and
    UsageError for ``<place> time`` with a place Herald does not know.
    """
    words = phrase.split()
    if len(words) < 2:
        return phrase, None
    for i, word in enumerate(words):
        name = iana_names().get(word.strip("()")) if "/" in word else None
        if name is not None:
            return (_before(words[:i]) + " ".join(words[i + 1 :])).strip(), ZoneSaid(name)
    if "time" in words[1:]:
        at = len(words) - 1 - words[::-1].index("time")
        rest, said = _place_time(" ".join(words[:at]), words[:at])
        return " ".join([rest, *words[at + 1 :]]).strip(), said
    for n in range(MAX_PLACE_WORDS, 0, -1):
        if len(words) <= n:
            continue
        place = " ".join(words[-n:])
        said_in = words[-n - 1] == "in"
        if (said_in or len(place) >= BARE_PLACE) and place in cities():
            return _before(words[:-n]).strip(), ZoneSaid(cities()[place])
    for i, word in enumerate(words):
        match = _WORD.fullmatch(word)
        if i == 0 or match is None:
            continue
        found = _abbreviation(match.group("word"), " ".join(words[:i] + words[i + 1 :]))
        if found is not None:
            return " ".join(words[:i] + words[i + 1 :]), found
    return phrase, None


def _place_time(phrase: str, body: list[str]) -> tuple[str, ZoneSaid | None]:
    """``9am new york time``, ``9am ist time``, ``9am my time``; a place nobody knows is refused."""
    for n in range(min(MAX_PLACE_WORDS, len(body) - 1), 0, -1):
        place = " ".join(body[-n:])
        rest = _before(body[:-n]).strip()
        if place in cities():
            return rest, ZoneSaid(cities()[place])
        found = _abbreviation(place, rest)
        if found is not None:
            return rest, found
    last = body[-1] if body else ""
    if last in OWN:
        return " ".join(w for w in body[:-1] if w not in OWN), None
    if last in _UNITS or len(body) < 2:
        return phrase, None
    raise UsageError(
        messages.unknown_place(last), suggestion=closest(last, cities(), cutoff=0.75), field="time"
    )


def _abbreviation(word: str, rest: str) -> ZoneSaid | None:
    if word in AMBIGUOUS:
        readings = tuple(f"{rest} {zone}" for zone in AMBIGUOUS[word])
        raise Ambiguous(messages.ambiguous_zone(word.upper(), AMBIGUOUS[word]), readings)
    if word in ABBREVIATIONS:
        zone, offset = ABBREVIATIONS[word]
        return ZoneSaid(zone, offset, word.upper())
    return None


def _before(words: list[str]) -> str:
    """The words before a place, without the ``in`` that introduced it, and a trailing space."""
    if words and words[-1] == "in":
        words = words[:-1]
    return " ".join(words) + " " if words else ""


@lru_cache(maxsize=1)
def iana_names() -> dict[str, str]:
    """Every IANA zone name this machine knows, by its lower-case spelling."""
    return {name.lower(): name for name in available_timezones()}


@lru_cache(maxsize=1)
def cities() -> dict[str, str]:
    """``new york`` → America/New_York: the city part of every regional IANA zone, and CITIES."""
    found: dict[str, str] = {}
    for name in sorted(available_timezones()):
        if name.startswith(_REGIONS):
            found.setdefault(name.rsplit("/", 1)[-1].replace("_", " ").lower(), name)
    return {**found, **CITIES}
