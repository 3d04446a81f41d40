"""The delivery funnel: sent → delivered → read → replied, failed with reasons, skipped by reason."""

from __future__ import annotations

import peewee

from engine import views
from engine.whatsapp.errors import describe_failure
from storage import held as held_store
from storage.funnel import Counts
from storage.states import BroadcastStatus, HeldReason, TemplateStatus

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


def whole_hold(status: str, held_reason: str | None, template_status: str) -> HeldReason | None:
    """The rule that holds every row of a broadcast still waiting, if one does: the breaker
    paused it, or Meta paused its template while it was sending."""
    if status == BroadcastStatus.PAUSED and held_reason:
        return HeldReason(held_reason)
    if status == BroadcastStatus.SENDING and template_status == TemplateStatus.PAUSED:
        return HeldReason.TEMPLATE_PAUSED
    return None


def held_everywhere(database: peewee.Database) -> dict[str, int]:
    """Held rows across the ledger by reason (``/metrics``): rows held one by one, and the
    waiting rows of broadcasts a rule holds whole."""
    held = held_store.held_by_reason(database)
    for status, reason, template_status, waiting in held_store.held_broadcasts(database):
        whole = whole_hold(status, reason, template_status)
        if whole is not None and waiting:
            held[whole] = held.get(whole, 0) + waiting
    return held


def held_view(counts: Counts, whole: str | None = None) -> dict[str, int]:
    """Of the pending, rows waiting by rule, by reason (DESIGN §9.2): each held row's own reason,
    and, when a rule holds the whole broadcast (``whole``: the breaker paused it, Meta paused
    its template), every other pending row under that one."""
    held = dict(counts.held)
    rest = counts.pending - sum(held.values())
    if whole is not None and rest > 0:
        held[whole] = held.get(whole, 0) + rest
    return held


def funnel_view(counts: Counts, *, whole: str | None = None) -> views.Funnel:
    """The contract shape of a funnel (DESIGN §5), plus ``pending`` while sending and ``held``."""
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
        "held": held_view(counts, whole),
    }


def rate(part: int, whole: int) -> float:
    """``part / whole`` as a fraction (0.0 when ``whole`` is 0)."""
    return part / whole if whole else 0.0
