"""The scheduler tick: everything time-driven, in one idempotent pass.

Each pass:
1. starts scheduled broadcasts that are due (or marks them missed);
2. applies webhook bodies waiting in the inbox, before the watchdog judges
   any send unconfirmed: an echo already received reconciles its row;
3. the watchdog: dispatched rows whose queue message never came back go back
   to the queue; rows left ``sending`` with no status echo after the
   reconciliation wait are sent again; statuses kept for a send not recorded
   yet are applied once it is;
4. lets held rows go back to the queue: those whose moment has come (a 131049
   wait, quiet hours), and those waiting for the messaging limit as far as it
   has room, oldest first;
5. dispatches queued rows in batches, keeping about ``window`` seconds of
   sending in flight (so a 1,000,000-recipient broadcast is not a million
   queue messages, and a lost message costs seconds, not hours);
6. completes broadcasts with nothing left pending;
7. runs the other time-driven jobs registered with it (sequence steps, the
   digest, reading the messaging limit from Meta every hour).

Every step is a conditional update in the database, so any number of ticks
(two schedulers, a server in direct mode) can run at once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import peewee

from engine.broadcasts import Broadcasts
from engine.clock import Clock
from engine.dispatch import Dispatcher
from engine.ingest import Ingest
from engine.limit import Limits
from engine.statuses import apply_pending
from storage import cap as cap_store
from storage import held as held_store
from storage import inbox as inbox_store
from storage import ledger
from storage.states import HELD_UNTIL_TIME
from storage.statuses import pending_recorded, purge_pending

log = logging.getLogger("herald.tick")

BATCH_SIZE = 100
RELEASE_CHUNK = 10_000  # held rows whose moment came, let go per pass and reason
PENDING_KEEP = timedelta(days=7)  # Meta retries a webhook for at most 7 days
SEND_BATCH = "herald.send_batch"


class Every:
    """A job run at most once per ``interval`` of the clock (the first pass runs it)."""

    def __init__(self, clock: Clock, interval: timedelta, job: Callable[[], Any]) -> None:
        self.clock = clock
        self.interval = interval
        self.job = job
        self._last: Any = None

    def __call__(self) -> Any:
        now = self.clock.now()
        if self._last is not None and now - self._last < self.interval:
            return None
        self._last = now
        return self.job()


@dataclass
class TickReport:
    started: list[int] = field(default_factory=list)
    requeued_dispatches: int = 0
    requeued_unconfirmed: int = 0
    released: int = 0  # held rows let go back to the queue
    dispatched: int = 0
    batches: int = 0
    statuses: int = 0
    completed: list[int] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


class Tick:
    def __init__(
        self,
        database: peewee.Database,
        clock: Clock,
        broadcasts: Broadcasts,
        dispatcher: Dispatcher,
        ingest: Ingest,
        *,
        mps: int,
        reconcile_wait: timedelta,
        dispatch_lease: timedelta = timedelta(minutes=5),
        window_seconds: float = 30.0,
        batch_size: int = BATCH_SIZE,
        limits: Limits | None = None,
    ) -> None:
        self.db = database
        self.clock = clock
        self.broadcasts = broadcasts
        self.dispatcher = dispatcher
        self.ingest = ingest
        self.mps = mps
        self.reconcile_wait = reconcile_wait
        self.dispatch_lease = dispatch_lease
        self.window = max(int(mps * window_seconds), batch_size * 4)
        self.batch_size = batch_size
        self.limits = limits or Limits(database, clock)
        self.jobs: list[tuple[str, Callable[[], Any]]] = []

    def add_job(self, name: str, job: Callable[[], Any]) -> None:
        """Another time-driven job to run on every pass (sequence steps, the digest)."""
        self.jobs.append((name, job))

    def run(self) -> TickReport:
        report = TickReport()
        report.started = self.broadcasts.due()
        try:
            while True:
                applied = self.ingest.process_inbox()
                report.statuses += applied.statuses
                if not applied.bodies:
                    break
            report.statuses += self.ingest.retry_failed().statuses
        except Exception:  # a deadlock, say: the pass goes on; the watchdog waits for those bodies
            log.exception("applying webhook bodies failed; they stay in the inbox for the next pass")
        self.watchdog(report)
        self.release(report)
        self.dispatch(report)
        for name, job in self.jobs:
            report.extra[name] = job()
        with self.db.atomic():
            pending = ledger.pending_broadcasts(self.db)
        report.completed = [b for b in pending if self.broadcasts.complete_if_done(b)]
        return report

    def watchdog(self, report: TickReport) -> None:
        now = self.clock.now()
        with self.db.atomic():
            report.requeued_dispatches = ledger.requeue_stale_dispatches(self.db, now - self.dispatch_lease)
            # A status received and not applied yet (another process may be applying it right
            # now) may be the echo of a row about to be judged: the wait runs only until the
            # oldest such status was received, holding rows back by at most one more wait.
            unapplied = inbox_store.oldest(self.db)
            until = now if unapplied is None else min(now, max(unapplied, now - self.reconcile_wait))
            requeued, released = ledger.requeue_unconfirmed(self.db, until - self.reconcile_wait)
            cap_store.release(self.db, released)
            apply_pending(self.db, pending_recorded(self.db, 1000))
            purge_pending(self.db, now - PENDING_KEEP)
        report.requeued_unconfirmed = requeued
        if report.requeued_dispatches or requeued:
            log.warning(
                "watchdog: %d lost dispatches and %d unconfirmed sends go back to the queue",
                report.requeued_dispatches,
                requeued,
            )

    def release(self, report: TickReport) -> None:
        """Held rows back to the queue: by their moment, or by the messaging limit's room."""
        now = self.clock.now()
        for reason in HELD_UNTIL_TIME:
            with self.db.atomic():
                report.released += held_store.release_due(self.db, reason, now, RELEASE_CHUNK)
        report.released += self.limits.release()

    def dispatch(self, report: TickReport) -> None:
        """Hand due rows to workers in batches, up to the in-flight window."""
        now = self.clock.now()
        with self.db.atomic():
            room = self.window - ledger.in_flight(self.db)
            due = ledger.due_ids(self.db, now, room) if room > 0 else []
        for start in range(0, len(due), self.batch_size):
            token = uuid.uuid4().hex
            with self.db.atomic():
                ids = ledger.mark_dispatched(self.db, due[start : start + self.batch_size], token, now)
            if not ids:
                continue
            self.dispatcher.submit(SEND_BATCH, token, ids)
            report.dispatched += len(ids)
            report.batches += 1
