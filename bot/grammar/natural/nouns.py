"""The things people ask about, in the words they use for them, and the states they ask for.

broadcasts, campaigns, blasts   → broadcast      running, live → sending; upcoming → scheduled
sequences, drips, journeys      → sequence       running, live, on → active
templates                       → template       approved, pending, rejected…
contacts, people, customers     → contact
enrollments                     → enrollment
stats, numbers, metrics         → stats
"""

from __future__ import annotations

from typing import Literal

Noun = Literal["broadcast", "sequence", "template", "contact", "enrollment", "stats"]

NOUNS: dict[str, Noun] = {
    **dict.fromkeys(("broadcast", "broadcasts", "campaign", "campaigns", "blast", "blasts"), "broadcast"),
    **dict.fromkeys(("sequence", "sequences", "drip", "drips", "journey", "journeys"), "sequence"),
    **dict.fromkeys(("flow", "flows", "drip campaigns", "drip sequences"), "sequence"),
    **dict.fromkeys(("template", "templates", "message templates"), "template"),
    **dict.fromkeys(("contact", "contacts", "people", "customers", "subscribers"), "contact"),
    **dict.fromkeys(("users", "members", "numbers on file", "audience", "everyone", "everybody"), "contact"),
    **dict.fromkeys(("enrollment", "enrollments", "enrolments", "enrolment"), "enrollment"),
    **dict.fromkeys(("stats", "statistics", "numbers", "metrics", "figures", "results"), "stats"),
}
STATUSES: dict[Noun, dict[str, str]] = {
    "broadcast": {
        **dict.fromkeys(("running", "sending", "live", "going out", "in progress", "ongoing"), "sending"),
        **dict.fromkeys(("scheduled", "upcoming", "planned", "queued", "coming up", "pending"), "scheduled"),
        **dict.fromkeys(("paused", "on hold", "stopped", "held"), "paused"),
        **dict.fromkeys(("completed", "done", "finished", "sent", "complete"), "completed"),
        **dict.fromkeys(("cancelled", "canceled"), "cancelled"),
        **dict.fromkeys(("draft", "drafts", "unsent", "saved"), "draft"),
        "missed": "missed",
    },
    "sequence": {
        **dict.fromkeys(("running", "active", "live", "on", "activated", "enabled"), "active"),
        **dict.fromkeys(("paused", "stopped", "off", "on hold", "disabled"), "paused"),
        **dict.fromkeys(("draft", "drafts", "inactive", "new"), "draft"),
        "archived": "archived",
    },
    "template": {
        **dict.fromkeys(("approved", "usable", "sendable", "live", "active"), "APPROVED"),
        **dict.fromkeys(("pending", "in review", "under review", "waiting"), "PENDING"),
        **dict.fromkeys(("pending approval", "awaiting approval", "waiting for approval"), "PENDING"),
        **dict.fromkeys(("i can use", "we can use", "can i use", "can we use", "i can send"), "APPROVED"),
        **dict.fromkeys(("rejected", "refused", "denied"), "REJECTED"),
        "paused": "PAUSED",
        "disabled": "DISABLED",
    },
}
LEADING = frozenset(
    {
        "the",
        "my",
        "our",
        "all",
        "all the",
        "all of the",
        "every",
        "any",
        "current",
        "last",
        "latest",
        "recent",
    }
)


def noun_of(words: str) -> Noun | None:
    """The noun ``words`` is (``"drips"`` → sequence), or None."""
    return NOUNS.get(words)


def status_of(noun: Noun | None, words: str) -> str | None:
    """The stored status ``words`` names for ``noun`` (``running`` broadcasts → ``sending``)."""
    if noun is None or noun not in STATUSES:
        return None
    return STATUSES[noun].get(words)


def split_noun(words: list[str]) -> tuple[Noun, list[str], list[str]] | None:
    """The first noun in ``words`` (one or two words) and the words before and after it."""
    for i in range(len(words)):
        for width in (2, 1):
            found = noun_of(" ".join(words[i : i + width]))
            if found is not None and i + width <= len(words):
                return found, words[:i], words[i + width :]
    return None
