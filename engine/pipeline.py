"""The send pipeline: one batch of ledger rows from claimed to sent, failed, skipped or retried.

It runs the same way under a Dramatiq worker and under direct processing:

1. claim the batch's rows (committed at once, so a crash leaves them visibly
   ``sending`` and the reconciliation rules, not luck, decide what happens);
2. decide per row: cancelled, paused, opted out, deleted (``engine.batch.screen``,
   over a context loaded in a fixed number of statements), missing parameter;
3. claim the frequency cap for MARKETING rows in one statement;
4. send every remaining row at its rate-limit slot, many in flight;
5. sort the answers by the retry policy (``engine.retry.decide``), write every
   outcome in one transaction, and hand back caps that were not used.

One bad recipient never stops the others; only bad credentials stop a batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import peewee

from engine import retry
from engine.actor import META
from engine.batch import BatchContext, Go, Hold, Skip, cap_wait, screen
from engine.cap import CAP_WINDOW, is_capped_category
from engine.clock import Clock
from engine.lifecycle import Lifecycle
from engine.notify import Notifier
from engine.sender import Outcome, Sender
from engine.whatsapp.errors import CredentialsError, MissingParameter, ParameterError
from engine.whatsapp.messages import TemplateMessage
from storage import cap as cap_store
from storage import ledger
from storage.models import Broadcast, Template
from storage.states import BroadcastStatus, Reason, missing_parameter

SUB_BATCH = 25  # rows sent between two checks that their broadcast is still sending


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
        outcomes = ledger.Outcomes()
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
        statuses = ledger.broadcast_statuses(self.db, [r.broadcast_id for r in part if r.broadcast_id])
        return all(status == BroadcastStatus.SENDING for status in statuses.values())

    def _hold_back(self, rows: list[ledger.Claimed], out: ledger.Outcomes, result: BatchResult) -> None:
        """Rows not sent because their broadcast stopped: back to the queue, attempt undone
        (a cancelled broadcast's queued rows are then skipped by the cancel itself)."""
        if not rows:
            return
        ids = [r.id for r in rows]
        held = set(ids)
        with self.db.atomic():
            ledger.release_to_queue(self.db, ids, undo_attempt=True)
            statuses = ledger.broadcast_statuses(self.db, [r.broadcast_id for r in rows if r.broadcast_id])
            cancelled = [r.id for r in rows if statuses.get(r.broadcast_id or 0) == BroadcastStatus.CANCELLED]
            if cancelled:
                ledger.skip_queued(self.db, cancelled, Reason.CANCELLED)
            claims = dict(out.cap_claims)
            cap_store.release(self.db, [(r.contact_id, claims[r.id]) for r in rows if r.id in claims])
            out.cap_claims[:] = [c for c in out.cap_claims if c.id not in held]
        result.requeued += len(ids)

    # -- deciding ---------------------------------------------------------------------

    def _prepare(
        self, rows: list[ledger.Claimed], out: ledger.Outcomes, result: BatchResult
    ) -> tuple[list[TemplateMessage], list[ledger.Claimed]]:
        ctx = BatchContext.load(self.db, rows)
        candidates = self._screen(rows, ctx, out, result)
        capped, granted = self._claim_caps(candidates, ctx, out)
        return self._compose(candidates, ctx, capped - granted, out)

    def _screen(
        self, rows: list[ledger.Claimed], ctx: BatchContext, out: ledger.Outcomes, result: BatchResult
    ) -> list[ledger.Claimed]:
        """Rows that may be sent; the others are skipped with a reason or held back."""
        held: list[int] = []
        candidates: list[ledger.Claimed] = []
        for row in rows:
            verdict = screen(row, ctx)
            if isinstance(verdict, Go):
                candidates.append(row)
            elif isinstance(verdict, Skip):
                out.skipped.append(ledger.Skipped(row.id, verdict.reason))
            else:
                held.append(row.id)
                broadcast = ctx.broadcast(row)
                if isinstance(verdict, Hold) and verdict.template_paused and broadcast is not None:
                    self._pause_for_template(broadcast, ctx.templates[row.template_id])
        with self.db.atomic():
            ledger.release_to_queue(self.db, held, undo_attempt=True)
        result.requeued += len(held)
        return candidates

    def _claim_caps(
        self, candidates: list[ledger.Claimed], ctx: BatchContext, out: ledger.Outcomes
    ) -> tuple[set[int], set[int]]:
        """Claim the cap for MARKETING rows in one statement: (rows under the cap, rows that may go)."""
        now = self.clock.now()
        capped = [r for r in candidates if is_capped_category(ctx.templates[r.template_id].category)]
        if not capped:
            return set(), set()
        with self.db.atomic():
            contacts = cap_store.claim(self.db, [r.contact_id for r in capped], now, now - CAP_WINDOW)
            winners: dict[int, int] = {}  # contact -> the one row that uses its claim
            for r in capped:
                if r.contact_id in contacts:
                    winners.setdefault(r.contact_id, r.id)
            claims = [ledger.CapClaim(row_id, now) for row_id in winners.values()]
            ledger.set_cap_claims(self.db, claims)
        out.cap_claims.extend(claims)
        return {r.id for r in capped}, set(winners.values())

    def _compose(
        self, candidates: list[ledger.Claimed], ctx: BatchContext, refused: set[int], out: ledger.Outcomes
    ) -> tuple[list[TemplateMessage], list[ledger.Claimed]]:
        """The message for each row that goes; rows the cap refused are skipped (a broadcast)
        or wait for it to clear (a sequence step)."""
        now = self.clock.now()
        messages: list[TemplateMessage] = []
        plan: list[ledger.Claimed] = []
        for row in candidates:
            person = ctx.people[row.contact_id]
            if row.id in refused:
                if row.broadcast_id is not None:
                    out.skipped.append(ledger.Skipped(row.id, Reason.FREQUENCY_CAP))
                else:
                    wait = cap_wait(person, now)
                    out.requeued.append(ledger.Requeued(row.id, wait, None, Reason.FREQUENCY_CAP))
                continue
            template = ctx.templates[row.template_id]
            try:
                components = ctx.plan(row, template).fill(person.name, person.attributes)
            except MissingParameter as exc:
                out.skipped.append(ledger.Skipped(row.id, missing_parameter(exc.name)))
                continue
            except ParameterError as exc:
                failed = ledger.Failed(row.id, None, "template parameters do not fit", exc.render(), now)
                out.failed.append(failed)
                continue
            messages.append(
                TemplateMessage(
                    to=person.phone,
                    template=template.name,
                    language=template.language,
                    components=components,
                    callback=str(row.id),
                    recipient=None if person.phone else person.wa_user_id,
                )
            )
            plan.append(row)
        return messages, plan

    def _pause_for_template(self, broadcast: Broadcast, template: Template) -> None:
        reason = f"template {template.name} is {template.status}"
        if self.lifecycle.move(broadcast.id, "pause", by=META, status_reason=reason):
            where = {"id": broadcast.id, "name": broadcast.name, "notify": broadcast.notify}
            self.notifier.alert("template_paused", f"Broadcast “{broadcast.name}” paused: {reason}.", where)

    # -- after sending ----------------------------------------------------------------

    def _classify(self, plan: list[ledger.Claimed], sent: list[Outcome], out: ledger.Outcomes) -> bool:
        """Sort outcomes by the retry policy; True when the credentials were refused (stop)."""
        now = self.clock.now()
        credentials: CredentialsError | None = None
        for row, outcome in zip(plan, sent, strict=True):
            decision = retry.decide(outcome, row.attempts, now, last_error=row.last_error)
            if isinstance(decision, retry.Sent):
                out.sent.append(ledger.Sent(row.id, decision.wamid, now))
            elif isinstance(decision, retry.Unconfirmed):
                out.ambiguous.append(ledger.Unconfirmed(row.id, decision.what))
            elif isinstance(decision, retry.Halt):
                credentials = decision.error
                out.requeued.append(ledger.Requeued(row.id, None, decision.code, decision.title))
            elif isinstance(decision, retry.Retry):
                out.requeued.append(ledger.Requeued(row.id, decision.at, decision.code, decision.title))
            else:
                out.failed.append(ledger.Failed(row.id, decision.code, decision.title, decision.detail, now))
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

                apply_pending(self.db, [s.wamid for s in out.sent])
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
        not_sent = out.not_sent()
        claims = dict(out.cap_claims)
        return [(r.contact_id, claims[r.id]) for r in rows if r.id in claims and r.id in not_sent]
