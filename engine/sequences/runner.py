"""Running enrollments: timers in the database, steps in batches, each step safe to run twice.

The tick claims due enrollments (``next_run_at`` has passed; atomically, so
two schedulers never take the same one) and dispatches them a hundred to a
job, through Redis or directly, like sends. A job loads everything its
enrollments need in a few statements, lets ``flow.decide`` choose each next
move, and writes the moves back conditionally on the step the enrollment was
at: a job that runs twice, or late, moves nothing the second time. A message
step only queues a ledger row (unique per enrollment and step); the send
pipeline sends it, and wakes the enrollment when it is sent, failed or skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import orjson
import peewee

from engine.clock import Clock
from engine.dispatch import Dispatcher
from engine.sequences.definition import Definition, MessageStep
from engine.sequences.flow import Facts, MessageFacts, Move, Send, Wait, decide
from storage import contacts as contact_store
from storage import sequences as store
from storage.models import Template
from storage.states import EnrollmentStatus, RowState, SequenceStatus

log = logging.getLogger("herald.sequences")

RUN_STEPS = "herald.run_steps"
BATCH = 100
CLAIM_CHUNK = 1000  # enrollments per claim statement; a tick claims up to per_tick in chunks
MAX_HOPS = 50  # moves in one run (a definition has no cycles; this only bounds a bad one)
SWEEP_EVERY = timedelta(minutes=10)


@lru_cache(maxsize=512)
def _definition(version_id: int, raw: str) -> Definition:
    return Definition.model_validate(orjson.loads(raw) if isinstance(raw, str | bytes) else raw)


@dataclass
class StepReport:
    claimed: int = 0
    dispatched: int = 0
    woken: int = 0


class SequenceRunner:
    def __init__(
        self,
        database: peewee.Database,
        clock: Clock,
        dispatcher: Dispatcher,
        *,
        status_timeout: timedelta,
        lease: timedelta = timedelta(minutes=5),
        per_tick: int = 5000,
    ) -> None:
        self.db = database
        self.clock = clock
        self.dispatcher = dispatcher
        self.status_timeout = status_timeout
        self.lease = lease
        self.per_tick = per_tick
        self._last_sweep: datetime | None = None

    # -- the tick's part ---------------------------------------------------------------

    def tick(self) -> StepReport:
        """Claim due enrollments and dispatch them in batches; wake any that were missed."""
        report = StepReport()
        now = self.clock.now()
        if self._last_sweep is None or now - self._last_sweep >= SWEEP_EVERY:
            self._last_sweep = now
            with self.db.atomic():
                report.woken = store.wake(self.db, store.settled_waiting(self.db, 10_000), now)
        while report.claimed < self.per_tick:  # short claims: each holds its row locks briefly
            with self.db.atomic():
                ids = store.claim_due(
                    self.db, now, now + self.lease, min(CLAIM_CHUNK, self.per_tick - report.claimed)
                )
            report.claimed += len(ids)
            for start in range(0, len(ids), BATCH):
                self.dispatcher.submit(RUN_STEPS, ids[start : start + BATCH])
                report.dispatched += 1
            if len(ids) < CLAIM_CHUNK:
                break
        return report

    def wake(self, enrollment_ids: set[int] | Sequence[int]) -> None:
        """Something an enrollment waits for happened (its message settled, a status arrived)."""
        if enrollment_ids:
            with self.db.atomic():
                store.wake(self.db, list(enrollment_ids), self.clock.now())

    # -- a job ---------------------------------------------------------------------------

    def run_steps(self, ids: Sequence[int]) -> int:
        """Advance these enrollments as far as they can go now. Returns the moves written."""
        now = self.clock.now()
        rows = [
            r
            for r in store.load(self.db, ids)
            if r.status == EnrollmentStatus.ACTIVE and r.sequence_status == SequenceStatus.ACTIVE
        ]
        if not rows:
            return 0
        tags = contact_store.tags_for(self.db, [r.contact_id for r in rows])
        sent: dict[int, dict[str, MessageFacts]] = {}
        for m in store.messages(self.db, [r.id for r in rows]):
            sent.setdefault(m.enrollment_id, {})[m.step_id] = MessageFacts(
                m.state, m.delivered, m.read, m.replied
            )
        moves: list[store.Move] = []
        queued: list[tuple[int, str, int, int]] = []
        templates: dict[tuple[str, str | None], int] = {}
        for row in rows:
            if row.current_step is None:
                continue
            definition = _definition(row.version_id, row.definition)
            step, started = row.current_step, row.step_started_at or now
            messages = sent.get(row.id, {})
            facts_tags = frozenset(tags.get(row.contact_id, []))
            for _ in range(MAX_HOPS):
                outcome = decide(
                    definition,
                    step,
                    Facts(now=now, step_started_at=started, tags=facts_tags, messages=messages),
                    status_timeout=self.status_timeout,
                )
                if isinstance(outcome, Send):
                    template_id = self._template(definition, outcome.step, templates)
                    queued.append((row.id, outcome.step, row.contact_id, template_id))
                    messages = {**messages, outcome.step: MessageFacts(RowState.QUEUED)}
                    continue
                if isinstance(outcome, Wait):
                    moves.append(
                        store.Move(
                            row.id,
                            row.current_step,
                            step,
                            started,
                            outcome.until,
                            EnrollmentStatus.ACTIVE,
                            row.next_run_at,
                        )
                    )
                    break
                assert isinstance(outcome, Move)
                if outcome.to is None:
                    moves.append(
                        store.Move(
                            row.id,
                            row.current_step,
                            None,
                            started,
                            None,
                            EnrollmentStatus.COMPLETED,
                            row.next_run_at,
                        )
                    )
                    break
                step, started = outcome.to, now
            else:
                log.error("enrollment %s made %d moves in one run; stopping it there", row.id, MAX_HOPS)
        with self.db.atomic():
            store.queue_messages(self.db, queued, now)
            store.apply_moves(self.db, moves, now)
        return len(moves)

    def _template(
        self, definition: Definition, step_id: str, cache: dict[tuple[str, str | None], int]
    ) -> int:
        step = definition.step(step_id)
        assert isinstance(step, MessageStep)
        key = (step.template, step.language)
        if key not in cache:
            query = Template.select(Template.id).where(Template.name == step.template)
            if step.language:
                query = query.where(Template.language == step.language)
            cache[key] = query.order_by(Template.id).get().id
        return cache[key]
