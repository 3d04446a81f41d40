"""The delivery funnel: sent → delivered → read → replied, failed with reasons, skipped by reason."""

from __future__ import annotations

from typing import Any

from storage.funnel import TOP_REASONS, Counts


def funnel_view(counts: Counts) -> dict[str, Any]:
    """The contract shape of a funnel (DESIGN §5), plus ``pending`` while sending."""
    top = dict(list(counts.failed_reasons.items())[:TOP_REASONS])
    rest = sum(list(counts.failed_reasons.values())[TOP_REASONS:])
    if rest:
        top["other"] = rest
    return {
        "total": counts.total,
        "sent": counts.sent,
        "delivered": counts.delivered,
        "read": counts.read,
        "replied": counts.replied,
        "failed": counts.failed,
        "skipped": counts.skipped,
        "failed_reasons": top,
        "pending": counts.pending,
    }


def rate(part: int, whole: int) -> float:
    """``part / whole`` as a fraction (0.0 when ``whole`` is 0)."""
    return part / whole if whole else 0.0
