"""The delivery funnel: sent → delivered → read → replied, failed with reasons, skipped by reason."""

from __future__ import annotations

from engine import views
from engine.whatsapp.errors import describe_failure
from storage.funnel import Counts

TOP_REASONS = 5


def failure_reasons(failures: list[tuple[int | None, str | None, int]]) -> dict[str, int]:
    """``{"131026 Message undeliverable": 12, ...}``, the top few, then "other"."""
    merged: dict[str, int] = {}
    for code, title, n in failures:
        label = describe_failure(code, title or "")
        merged[label] = merged.get(label, 0) + n
    ranked = sorted(merged.items(), key=lambda item: -item[1])
    top = dict(ranked[:TOP_REASONS])
    rest = sum(n for _, n in ranked[TOP_REASONS:])
    if rest:
        top["other"] = rest
    return top


def funnel_view(counts: Counts) -> views.Funnel:
    """The contract shape of a funnel (DESIGN §5), plus ``pending`` while sending."""
    top = failure_reasons(counts.failures)
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
