"""The frequency cap: a MARKETING template reaches a contact at most once per rolling 24 hours.

Across every broadcast and sequence, under concurrency: a claim is one
conditional UPDATE per batch, so two broadcasts racing for the same contact
cannot both win. UTILITY and AUTHENTICATION are never capped. A send that
fails permanently hands its claim back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

CAP_WINDOW = timedelta(hours=24)
CAPPED_CATEGORIES = frozenset({"MARKETING"})


def is_capped_category(category: str) -> bool:
    return category.upper() in CAPPED_CATEGORIES


def clears_at(last_sent: datetime) -> datetime:
    """When the cap set at ``last_sent`` stops holding."""
    return last_sent + CAP_WINDOW
