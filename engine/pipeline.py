"""The send pipeline: one batch of ledger rows from claimed to sent, failed, skipped or retried.

It runs the same way under a Dramatiq worker and under direct processing:

1. claim the batch's rows (committed at once, so a crash leaves them visibly
   ``sending`` and the reconciliation rules, not luck, decide what happens);
2. decide per row: cancelled, paused, opted out, deleted, missing parameter;
3. claim the frequency cap for MARKETING rows in one statement;
4. send every remaining row at its rate-limit slot, many in flight;
5. write every outcome in one transaction; hand back caps that were not used.

One bad recipient never stops the others; only bad credentials stop a batch.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import peewee

from engine.actor import META
from engine.cap import CAP_WINDOW, clears_at, is_capped_category
from engine.clock import Clock
from engine.lifecycle import Lifecycle
from engine.notify import Notifier
from engine.sender import Outcome, Sender
from engine.whatsapp.errors import (
    Ambiguous,
    CredentialsError,
    DeliveryError,
    MissingParameter,
    PairRateLimited,
    ParameterError,
    Permanent,
    RetryLater,
    Throttled,
)
from engine.whatsapp.messages import TemplateMessage
from engine.whatsapp.parameters import ParameterPlan, compile_parameters
from storage import cap as cap_store
from storage import ledger
from storage.models import Broadcast, Template
from storage.states import (
    BroadcastStatus,
    ContactStatus,
    EnrollmentStatus,
    Reason,
    SequenceStatus,
    TemplateStatus,
    missing_parameter,
)

log = logging.getLogger("herald.pipeline")

MAX_ATTEMPTS = 8
SUB_BATCH = 25  # rows sent between two checks that their broadcast is still sending
RETRY_LATER = timedelta(hours=24)


def backoff(attempt: int, *, base: float = 5.0, ceiling: float = 600.0) -> timedelta:
    """Exponential backoff with jitter: 5 s, 10 s, 20 s ... at most 10 min."""
    seconds = min(ceiling, base * 2 ** max(0, attempt - 1))
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


def pair_backoff(attempt: int) -> timedelta:
    """Meta's rule for 131056: wait 4^X seconds before trying that recipient again."""
    return timedelta(seconds=min(4 ** max(0, attempt - 1), 3600))


@dataclass
class _Context:
    """What one batch needs to know about its rows, loaded once."""

    people: dict[int, ledger.Recipient]
    templates: dict[int, Template]
    broadcasts: dict[int, Broadcast]
    steps: dict[int, ledger.StepInfo] = field(default_factory=dict)  # by enrollment id
    capped: set[int] = field(default_factory=set)  # row ids under the frequency cap
    plans: dict[tuple[int, int | None, str | None], ParameterPlan] = field(default_factory=dict)

    def broadcast(self, row: ledger.Claimed) -> Broadcast | None:
        return self.broadcasts.get(row.broadcast_id) if row.broadcast_id else None

    def step_params(self, row: ledger.Claimed) -> Any:
        """A sequence message step's parameter mapping, from the enrollment's version."""
        info = self.steps.get(row.enrollment_id or 0)
        if info is None:
            return None
        for step in info.definition.get("steps", []):
            if step.get("id") == row.step_id:
                return step.get("params")
        return None

    def plan(self, row: ledger.Claimed, template: Template) -> ParameterPlan:
        """The template's parameters checked against the row's mapping, once per batch."""
        key = (template.id, row.broadcast_id, row.step_id)
        if key not in self.plans:
            broadcast = self.broadcast(row)
            mapping = broadcast.params if broadcast is not None else self.step_params(row)
            self.plans[key] = compile_parameters(template.parameters, template.parameter_format, mapping)
        return self.plans[key]


@dataclass
class BatchResult:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    requeued: int = 0
    unconfirmed: int = 0
    broadcasts: set[int] = field(default_factory=set)
    enrollments: set[int] = field(default_factory=set)


class SendPipeline:
    def __init__(
        self,
        database: peewee.Database,
        clock: Clock,
        sender: Sender,
        notifier: Notifier,
        lifecycle: Lifecycle,
        *,
        on_broadcast_touched: Callable[[set[int]], None] | None = None,
        on_enrollments_touched: Callable[[set[int]], None] | None = None,
    ) -> None:
        self.db = database
        self.clock = clock
        self.sender = sender
        self.notifier = notifier
        self.lifecycle = lifecycle
        self.on_broadcast_touched = on_broadcast_touched
        self.on_enrollments_touched = on_enrollments_touched

    def run_batch(self, token: str, ids: Sequence[int]) -> BatchResult:
        """Send the rows of batch ``token``. Safe to run twice: a second run claims nothing."""
        result = BatchResult()
        with self.db.atomic():
            rows = ledger.claim(self.db, token, ids, self.clock.now())
        result.claimed = len(rows)
        if not rows:
            return result
        outcomes = ledger.Outcomes.empty()
        try:
            messages, plan = self._prepare(rows, outcomes, result)
            for start in range(0, len(plan), SUB_BATCH):
                part = plan[start : start + SUB_BATCH]
                if not self._still_sending(part):
                    self._hold_back(plan[start:], outcomes, result)
                    break
                sent = self.sender.send_all(messages[start : start + SUB_BATCH])
                if self._classify(part, sent, outcomes):
                    self._hold_back(plan[start + SUB_BATCH :], outcomes, result)
                    break
        finally:
            self._finish(rows, outcomes, result)
        return result

    def _still_sending(self, part: list[ledger.Claimed]) -> bool:
        """False once a broadcast of these rows was paused or cancelled (checked per sub-batch,
        so a pause takes effect within a second even at low rates)."""
        ids = {r.broadcast_id for r in part if r.broadcast_id}
        if not ids:
            return True
        return all(
            b.status == BroadcastStatus.SENDING
            for b in Broadcast.select(Broadcast.status).where(Broadcast.id.in_(ids))
        )

    def _hold_back(self, rows: list[ledger.Claimed], out: ledger.Outcomes, result: BatchResult) -> None:
        """Rows not sent because their broadcast stopped: back to the queue, attempt undone
        (a cancelled broadcast's queued rows are then skipped by the cancel itself)."""
        if not rows:
            return
        ids = [r.id for r in rows]
        held = set(ids)
        with self.db.atomic():
            ledger.release_to_queue(self.db, ids, undo_attempt=True)
            stopped = {
                b.id
                for b in Broadcast.select().where(
                    Broadcast.id.in_({r.broadcast_id for r in rows if r.broadcast_id})
                    & (Broadcast.status == BroadcastStatus.CANCELLED)
                )
            }
            cancelled = [r.id for r in rows if r.broadcast_id in stopped]
            if cancelled:
                ledger.skip_queued(self.db, cancelled, Reason.CANCELLED)
            claims = dict(out.cap_claims)
            cap_store.release(self.db, [(r.contact_id, claims[r.id]) for r in rows if r.id in claims])
            out.cap_claims[:] = [c for c in out.cap_claims if c[0] not in held]
        result.requeued += len(ids)

    # -- deciding ---------------------------------------------------------------------

    def _prepare(
        self, rows: list[ledger.Claimed], out: ledger.Outcomes, result: BatchResult
    ) -> tuple[list[TemplateMessage], list[ledger.Claimed]]:
        ctx = self._context(rows)
        candidates = self._screen(rows, ctx, out, result)
        granted = self._claim_caps(candidates, ctx, out)
        return self._compose(candidates, ctx, granted, out)

    def _context(self, rows: list[ledger.Claimed]) -> _Context:
        broadcast_ids = {r.broadcast_id for r in rows if r.broadcast_id}
        return _Context(
            people=ledger.recipients(self.db, [r.contact_id for r in rows]),
            templates={
                t.id: t for t in Template.select().where(Template.id.in_({r.template_id for r in rows}))
            },
            broadcasts={b.id: b for b in Broadcast.select().where(Broadcast.id.in_(broadcast_ids))},
            steps=ledger.step_info(self.db, [r.enrollment_id for r in rows if r.enrollment_id]),
        )

    def _screen(
        self, rows: list[ledger.Claimed], ctx: _Context, out: ledger.Outcomes, result: BatchResult
    ) -> list[ledger.Claimed]:
        """Rows that may be sent; the others are skipped with a reason or held back."""
        held: list[int] = []
        candidates: list[ledger.Claimed] = []
        for row in rows:
            broadcast = ctx.broadcast(row)
            person = ctx.people[row.contact_id]
            template = ctx.templates[row.template_id]
            step = ctx.steps.get(row.enrollment_id or 0)
            if broadcast is not None and broadcast.status == BroadcastStatus.CANCELLED:
                out.skipped.append((row.id, Reason.CANCELLED))
            elif broadcast is not None and broadcast.status != BroadcastStatus.SENDING:
                held.append(row.id)
            elif step is not None and step.enrollment_status != EnrollmentStatus.ACTIVE:
                out.skipped.append((row.id, step.exit_reason or Reason.EXITED))
            elif step is not None and step.sequence_status != SequenceStatus.ACTIVE:
                held.append(row.id)
            elif person.status != ContactStatus.ACTIVE:
                out.skipped.append((row.id, Reason.DELETED))
            elif not person.opted_in:
                out.skipped.append((row.id, Reason.OPTED_OUT))
            elif template.status != TemplateStatus.APPROVED:
                held.append(row.id)
                if broadcast is not None:
                    self._pause_for_template(broadcast, template)
            else:
                candidates.append(row)
        with self.db.atomic():
            ledger.release_to_queue(self.db, held, undo_attempt=True)
        result.requeued += len(held)
        return candidates

    def _claim_caps(self, candidates: list[ledger.Claimed], ctx: _Context, out: ledger.Outcomes) -> set[int]:
        """Claim the cap for MARKETING rows in one statement; returns the row ids that may go."""
        now = self.clock.now()
        capped = [r for r in candidates if is_capped_category(ctx.templates[r.template_id].category)]
        ctx.capped = {r.id for r in capped}
        if not capped:
            return set()
        with self.db.atomic():
            contacts = cap_store.claim(self.db, [r.contact_id for r in capped], now, now - CAP_WINDOW)
            winners: dict[int, int] = {}  # contact -> the one row that uses its claim
            for r in capped:
                if r.contact_id in contacts:
                    winners.setdefault(r.contact_id, r.id)
            claims = [(row_id, now) for row_id in winners.values()]
            ledger.set_cap_claims(self.db, claims)
        out.cap_claims.extend(claims)
        return set(winners.values())

    def _compose(
        self, candidates: list[ledger.Claimed], ctx: _Context, granted: set[int], out: ledger.Outcomes
    ) -> tuple[list[TemplateMessage], list[ledger.Claimed]]:
        now = self.clock.now()
        messages: list[TemplateMessage] = []
        plan: list[ledger.Claimed] = []
        for row in candidates:
            person = ctx.people[row.contact_id]
            if row.id in ctx.capped and row.id not in granted:
                self._capped(row, person, out)
                continue
            template = ctx.templates[row.template_id]
            try:
                components = ctx.plan(row, template).fill(person.name, person.attributes)
            except MissingParameter as exc:
                out.skipped.append((row.id, missing_parameter(exc.name)))
                continue
            except ParameterError as exc:
                out.failed.append((row.id, None, "template parameters do not fit", exc.render(), now))
                continue
            messages.append(
                TemplateMessage(
                    to=person.phone,
                    template=template.name,
                    language=template.language,
                    components=components,
                    callback=str(row.id),
                )
            )
            plan.append(row)
        return messages, plan

    def _capped(self, row: ledger.Claimed, person: ledger.Recipient, out: ledger.Outcomes) -> None:
        if row.broadcast_id is not None:
            out.skipped.append((row.id, Reason.FREQUENCY_CAP))
            return
        # a sequence step waits for the cap to clear instead of being skipped
        last = self._last_marketing(person.id)
        out.requeued.append(
            (
                row.id,
                clears_at(last) if last else self.clock.now() + CAP_WINDOW,
                None,
                Reason.FREQUENCY_CAP,
            )
        )

    def _last_marketing(self, contact_id: int) -> datetime | None:
        from storage.models import Contact  # noqa: PLC0415

        contact = Contact.get_by_id(contact_id)
        return contact.last_marketing_at

    def _pause_for_template(self, broadcast: Broadcast, template: Template) -> None:
        reason = f"template {template.name} is {template.status}"
        if self.lifecycle.move(broadcast.id, "pause", by=META, status_reason=reason):
            where = {"id": broadcast.id, "name": broadcast.name, "notify": broadcast.notify}
            self.notifier.alert("template_paused", f"Broadcast “{broadcast.name}” paused: {reason}.", where)

    # -- after sending ----------------------------------------------------------------

    def _classify(self, plan: list[ledger.Claimed], sent: list[Outcome], out: ledger.Outcomes) -> bool:
        """Sort outcomes; True when the credentials were refused (stop the batch)."""
        now = self.clock.now()
        credentials: CredentialsError | None = None
        for row, outcome in zip(plan, sent, strict=True):
            if isinstance(outcome, str):
                out.sent.append((row.id, outcome, now))
            elif isinstance(outcome, Ambiguous):
                out.ambiguous.append((row.id, outcome.title))
            elif isinstance(outcome, CredentialsError):
                credentials = outcome
                out.requeued.append((row.id, None, outcome.error_code, outcome.title))
            elif isinstance(outcome, Permanent) or (
                isinstance(outcome, RetryLater) and row.last_error == outcome.error_code
            ):
                out.failed.append((row.id, outcome.error_code, outcome.title, outcome.details, now))
            elif isinstance(outcome, RetryLater):
                out.requeued.append((row.id, now + RETRY_LATER, outcome.error_code, outcome.title))
            elif row.attempts >= MAX_ATTEMPTS:
                out.failed.append((row.id, outcome.error_code, outcome.title, "gave up after retries", now))
            elif isinstance(outcome, PairRateLimited):
                out.requeued.append(
                    (row.id, now + pair_backoff(row.attempts), outcome.error_code, outcome.title)
                )
            elif isinstance(outcome, Throttled):
                out.requeued.append((row.id, now + timedelta(seconds=2), outcome.error_code, outcome.title))
            else:
                assert isinstance(outcome, DeliveryError)
                out.requeued.append((row.id, now + backoff(row.attempts), outcome.error_code, outcome.title))
        if credentials is not None:
            self._stop_for_credentials(plan, credentials)
        return credentials is not None

    def _stop_for_credentials(self, plan: list[ledger.Claimed], err: CredentialsError) -> None:
        reason = f"WhatsApp refused the access token ({err.reason}); fix WHATSAPP_TOKEN, then resume"
        for broadcast_id in sorted({r.broadcast_id for r in plan if r.broadcast_id}):
            self.lifecycle.move(broadcast_id, "pause", by=META, status_reason=reason)
        self.notifier.alert("credentials", reason, None)

    def _finish(self, rows: list[ledger.Claimed], out: ledger.Outcomes, result: BatchResult) -> None:
        """Write outcomes; rows with no outcome (an exception mid-way) stay ``sending`` and
        are reconciled like a crash."""
        unused_caps = self._unused_caps(rows, out)
        enrollments = {r.enrollment_id for r in rows if r.enrollment_id}
        with self.db.atomic():
            ledger.record(self.db, out)
            cap_store.release(self.db, unused_caps)
            if out.sent:
                from engine.statuses import apply_pending  # noqa: PLC0415 - avoids an import cycle

                apply_pending(self.db, [w for _, w, _ in out.sent])
            if self.on_enrollments_touched and enrollments:
                # with the outcomes: a worker killed after this commit leaves no enrollment
                # waiting on a message that has settled
                self.on_enrollments_touched(enrollments)
        result.sent += len(out.sent)
        result.failed += len(out.failed)
        result.skipped += len(out.skipped)
        result.requeued += len(out.requeued)
        result.unconfirmed += len(out.ambiguous)
        result.broadcasts |= {r.broadcast_id for r in rows if r.broadcast_id}
        result.enrollments |= enrollments
        if self.on_broadcast_touched and result.broadcasts:
            self.on_broadcast_touched(result.broadcasts)

    def _unused_caps(self, rows: list[ledger.Claimed], out: ledger.Outcomes) -> list[tuple[int, datetime]]:
        """Cap claims to hand back: the send failed permanently, was skipped or will be retried."""
        not_sent = {i for i, *_ in out.failed} | {i for i, *_ in out.requeued} | {i for i, _ in out.skipped}
        claims = dict(out.cap_claims)
        return [(r.contact_id, claims[r.id]) for r in rows if r.id in claims and r.id in not_sent]
