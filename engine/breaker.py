"""The circuit breaker (DESIGN §9.2): when sending starts to hurt the number, stop for a person.

It trips when, over a broadcast's last ``BREAKER_WINDOW`` outcomes (sends answered or
failed), failures exceed ``BREAKER_FAILURE_RATE``, or opt-outs and blocks from its
recipients (STOP, the "Stop promotions" button, WhatsApp's own marketing setting,
131050) exceed ``BREAKER_OPTOUT_RATE``; or when Meta rates the business number RED or
FLAGGED. Then every sending MARKETING broadcast (and the one that tripped it) is
paused with the reason ``breaker``, and an alert under each names the trigger and its
figures; only an admin resumes them.

A broadcast with fewer outcomes than the window is judged on what it has, against a
floor of a fifth of the window: three failures out of the first three sends are not
a trend, thirty out of thirty are. Counts come from ``storage.breaker``'s tally, kept
with each batch's outcomes and each webhook apply; ``judge`` is the pure rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import peewee

from engine import alerts
from engine.actor import BREAKER
from engine.clock import Clock
from engine.lifecycle import Lifecycle
from storage import breaker as store
from storage.breaker import Tally
from storage.models import Broadcast, Template
from storage.states import BroadcastStatus, HeldReason, TemplateCategory

OPTOUT_WINDOW = timedelta(
    hours=72
)  # an opt-out counts against broadcasts that reached the contact this recently
KEEP = timedelta(days=7)  # tally rows are forgotten after this long
BAD_QUALITY = frozenset({"RED", "FLAGGED"})

Alert = tuple[str, str, dict[str, Any] | None]


@dataclass(frozen=True)
class Thresholds:
    window: int = 500
    failure_rate: float = 0.10
    optout_rate: float = 0.02

    @property
    def floor(self) -> int:
        """The fewest outcomes a rate is taken over."""
        return max(1, self.window // 5)


def trips(tally: Tally, t: Thresholds) -> bool:
    """Whether ``tally`` (a broadcast's window) trips the breaker."""
    counted = max(tally.outcomes, t.floor)
    return tally.failures / counted > t.failure_rate or tally.optouts / counted > t.optout_rate


def judge(name: str, tally: Tally, t: Thresholds) -> str | None:
    """Why ``tally`` (a broadcast's window) trips the breaker, in words; None when it does not."""
    counted = max(tally.outcomes, t.floor)
    if tally.failures / counted > t.failure_rate:
        return alerts.breaker_failures(name, tally.failures, tally.outcomes, counted, t.failure_rate)
    if tally.optouts / counted > t.optout_rate:
        return alerts.breaker_optouts(name, tally.optouts, tally.outcomes, counted, t.optout_rate)
    return None


class Breaker:
    def __init__(self, database: peewee.Database, clock: Clock, lifecycle: Lifecycle, thresholds: Thresholds):
        self.db = database
        self.clock = clock
        self.lifecycle = lifecycle
        self.thresholds = thresholds

    # -- counting (inside the caller's transaction) ---------------------------------------

    def count(self, tallies: Mapping[int, Tally]) -> set[int]:
        """Add a batch's or a webhook apply's counts; returns the broadcasts to judge."""
        store.add(self.db, tallies.items(), self.clock.now())
        return {b for b, t in tallies.items() if any(t)}

    def opted_out(self, contact_ids: Iterable[int]) -> dict[int, Tally]:
        """Opt-outs and blocks, as counts for the broadcasts that reached these contacts lately."""
        since = self.clock.now() - OPTOUT_WINDOW
        tallies: dict[int, Tally] = {}
        for broadcast_id, _ in store.recent_broadcasts(self.db, list(contact_ids), since):
            before = tallies.get(broadcast_id, Tally(0, 0, 0))
            tallies[broadcast_id] = before._replace(optouts=before.optouts + 1)
        return tallies

    # -- judging (after the commit) ---------------------------------------------------------

    def judge(self, broadcast_ids: Iterable[int]) -> list[Alert]:
        """Judge each broadcast's window; trip on the first that crosses a threshold."""
        for broadcast_id in sorted(set(broadcast_ids)):
            tally = store.window(self.db, broadcast_id, self.thresholds.window)
            if not trips(tally, self.thresholds):
                continue
            b = Broadcast.get_or_none(Broadcast.id == broadcast_id)
            why = judge(b.name if b else f"#{broadcast_id}", tally, self.thresholds)
            if why is not None:
                return self.trip(why, broadcast_id)
        return []

    def quality(self, rating: str) -> list[Alert]:
        """Meta rated the business number: RED or FLAGGED trips the breaker."""
        if rating.upper() not in BAD_QUALITY:
            return []
        return self.trip(alerts.breaker_quality(rating.upper()), None)

    def trip(self, why: str, cause: int | None) -> list[Alert]:
        """Pause every sending MARKETING broadcast (and ``cause``, whatever its category) with the
        reason ``breaker``; an alert for each one paused. Safe to run twice: a broadcast
        already paused is not paused again (nor alerted)."""
        marketing = (
            Broadcast.select(Broadcast.id)
            .join(Template)
            .where(
                (Broadcast.status == BroadcastStatus.SENDING)
                & (Template.category == TemplateCategory.MARKETING)
            )
        )
        targets = {b.id for b in marketing} | ({cause} if cause is not None else set())
        out: list[Alert] = []
        with self.db.atomic():
            if cause is not None:
                store.reset(self.db, [cause])  # its window starts afresh
            for broadcast_id in sorted(targets):
                moved = self.lifecycle.move(
                    broadcast_id,
                    "pause",
                    by=BREAKER,
                    status_reason=alerts.breaker_reason(why),
                    held_reason=HeldReason.BREAKER,
                )
                if moved:
                    b = Broadcast.get_by_id(broadcast_id)
                    where = {"id": b.id, "name": b.name, "notify": b.notify}
                    out.append((alerts.BREAKER, alerts.breaker_paused(b.name, why), where))
        return out

    def held(self) -> list[int]:
        """Broadcasts the breaker holds paused now."""
        return [
            b.id
            for b in Broadcast.select(Broadcast.id).where(
                (Broadcast.status == BroadcastStatus.PAUSED) & (Broadcast.held_reason == HeldReason.BREAKER)
            )
        ]

    def forget(self, before: datetime | None = None) -> int:
        """Drop tally rows older than a week (the tick's job)."""
        with self.db.atomic():
            return store.forget(self.db, before or self.clock.now() - KEEP)
