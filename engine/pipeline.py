"""The send pipeline: one batch of ledger rows from claimed to sent, failed, skipped or retried.

It runs the same way under a Dramatiq worker and under direct processing:

1. claim the batch's rows (committed at once, so a crash leaves them visibly
   ``sending`` and the reconciliation rules, not luck, decide what happens);
2. decide per row: cancelled, paused, opted out, deleted, held by a rule
   (``engine.batch.screen``, over a context loaded in a fixed number of
   statements), missing parameter;
3. claim the frequency cap for MARKETING rows in one statement;
4. take room in the messaging limit for the rows that go (``engine.limit``);
   rows beyond it wait, ``held``, until the limit has room;
5. send the rows a part at a time (at most a second of sending each), each part
   at its rate-limit slots, many in flight; just before a part's first slot, read
   its broadcasts and templates again, so a pause, a cancel, the breaker or Meta
   pausing the template stops what is not sent yet within about a second;
6. sort the answers by the retry policy (``engine.retry.decide``), write every
   outcome in one transaction with the circuit breaker's counts, hand back caps
   and reach that were not used, then let the breaker judge.

One bad recipient never stops the others; only bad credentials stop a batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import peewee

from engine import retry
from engine.actor import META
from engine.batch import BatchContext, Go, Skip, cap_wait, screen, still_goes
from engine.breaker import Breaker
from engine.cap import CAP_WINDOW, is_capped_category
from engine.clock import Clock
from engine.lifecycle import Lifecycle
from engine.limit import Candidate, Limits
from engine.notify import Notifier
from engine.platform import Alert, Platform
from engine.sender import Outcome, Sender
from engine.whatsapp.errors import CredentialsError, MissingParameter, ParameterError, describe_failure
from engine.whatsapp.events import TemplateStatusEvent
from engine.whatsapp.messages import TemplateMessage
from storage import cap as cap_store
from storage import ledger
from storage.breaker import Tally
from storage.models import Broadcast, Template
from storage.states import BroadcastStatus, HeldReason, Reason, missing_parameter

SUB_BATCH = 25  # rows sent at most between two looks at their broadcasts and templates
PART_SECONDS = 1.0  # ... and at most this much sending (fewer rows at a low rate)
LEAD = 0.5  # seconds before a part's first slot when it is looked at
STOP_CODE = 131050  # the recipient stopped marketing: an opt-out for the breaker, not a failure


@dataclass
class BatchResult:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    requeued: int = 0
    held: int = 0
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
        limits: Limits | None = None,
        breaker: Breaker | None = None,
        platform: Platform | None = None,
        max_131049: int = retry.RETRY_131049_MAX,
    ) -> None:
        self.db = database
        self.clock = clock
        self.sender = sender
        self.notifier = notifier
        self.lifecycle = lifecycle
        self.on_broadcast_touched = on_broadcast_touched
        self.on_enrollments_touched = on_enrollments_touched
        self.limits = limits or Limits(database, clock)
        self.breaker = breaker
        self.platform = platform or Platform(database, clock, lifecycle, breaker)
        self.max_131049 = max_131049

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
            messages, plan = self._prepare(rows, outcomes)
            self._send(messages, plan, outcomes)
        finally:
            self._finish(rows, outcomes, result)
        return result

    def part_size(self) -> int:
        """Rows per part: at most SUB_BATCH, and at most a second's worth at the send rate."""
        return max(1, min(SUB_BATCH, int(self.sender.limiter.rate * PART_SECONDS)))

    def _send(
        self, messages: list[TemplateMessage], plan: list[ledger.Claimed], out: ledger.Outcomes
    ) -> None:
        size = self.part_size()
        for start in range(0, len(plan), size):
            part, texts = plan[start : start + size], messages[start : start + size]
            first = self.sender.reserve(len(part))
            early = first - LEAD - time.monotonic()
            if early > 0:  # slots far ahead (a low rate, many senders): look as late as possible
                time.sleep(early)
            going = self._still_going(part, out)
            if len(going) < len(part):
                texts = [m for m, row in zip(texts, part, strict=True) if row.id in going]
                part = [row for row in part if row.id in going]
            if not part:
                continue
            if self._classify(part, self.sender.send_at(texts, first), out):
                out.returned.extend(r.id for r in plan[start + size :])
                return

    def _still_going(self, part: list[ledger.Claimed], out: ledger.Outcomes) -> set[int]:
        """The ids of rows that may still go, read just before they are sent; the others go
        back to the queue untried (or are skipped, their broadcast cancelled)."""
        broadcasts, templates = ledger.gate(
            self.db, [r.broadcast_id for r in part if r.broadcast_id], [r.template_id for r in part]
        )
        going: set[int] = set()
        for row in part:
            if still_goes(row, broadcasts, templates):
                going.add(row.id)
            elif (
                row.broadcast_id is not None and broadcasts.get(row.broadcast_id) == BroadcastStatus.CANCELLED
            ):
                out.skipped.append(ledger.Skipped(row.id, Reason.CANCELLED))
            else:
                out.returned.append(row.id)
        return going

    # -- deciding ---------------------------------------------------------------------

    def _prepare(
        self, rows: list[ledger.Claimed], out: ledger.Outcomes
    ) -> tuple[list[TemplateMessage], list[ledger.Claimed]]:
        ctx = BatchContext.load(self.db, rows)
        candidates = self._screen(rows, ctx, out)
        capped, granted = self._claim_caps(candidates, ctx, out)
        messages, plan = self._compose(candidates, ctx, capped - granted, out)
        return self._within_limit(messages, plan, out)

    def _screen(
        self, rows: list[ledger.Claimed], ctx: BatchContext, out: ledger.Outcomes
    ) -> list[ledger.Claimed]:
        """Rows that may be sent; the others are skipped with a reason, held, or put back."""
        candidates: list[ledger.Claimed] = []
        for row in rows:
            verdict = screen(row, ctx)
            if isinstance(verdict, Go):
                candidates.append(row)
            elif isinstance(verdict, Skip):
                out.skipped.append(ledger.Skipped(row.id, verdict.reason))
            elif verdict.reason is not None:
                out.held.append(ledger.Held(row.id, verdict.reason, verdict.until))
            else:
                out.returned.append(row.id)
                broadcast = ctx.broadcast(row)
                if verdict.stop and broadcast is not None:
                    self._pause_for_template(broadcast, ctx.templates[row.template_id])
        return candidates

    def _within_limit(
        self, messages: list[TemplateMessage], plan: list[ledger.Claimed], out: ledger.Outcomes
    ) -> tuple[list[TemplateMessage], list[ledger.Claimed]]:
        """Take room in the messaging limit for the rows that go; the others wait for room."""
        if not plan:
            return messages, plan
        now = self.clock.now()
        reservation = self.limits.reserve(
            [Candidate(r.id, r.contact_id, r.held_reason == HeldReason.MESSAGING_LIMIT) for r in plan], now
        )
        out.reach_claims.extend((c.contact_id, c.at) for c in reservation.claims)
        if not reservation.held:
            return messages, plan
        for row_id, until in reservation.held.items():
            out.held.append(ledger.Held(row_id, HeldReason.MESSAGING_LIMIT, until))
        kept = [(m, r) for m, r in zip(messages, plan, strict=True) if r.id not in reservation.held]
        return [m for m, _ in kept], [r for _, r in kept]

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
        refused: dict[int, retry.Withheld] = {}  # template id -> what Meta said of it
        for row, outcome in zip(plan, sent, strict=True):
            decision = retry.decide(
                outcome, row.attempts, now, retries_131049=row.retries_131049, max_131049=self.max_131049
            )
            if isinstance(decision, retry.Sent):
                out.sent.append(ledger.Sent(row.id, decision.wamid, now))
            elif isinstance(decision, retry.Unconfirmed):
                out.ambiguous.append(ledger.Unconfirmed(row.id, decision.what))
            elif isinstance(decision, retry.Halt):
                credentials = decision.error
                out.requeued.append(ledger.Requeued(row.id, None, decision.code, decision.title))
            elif isinstance(decision, retry.Withheld):
                out.returned.append(row.id)
                refused[row.template_id] = decision
            elif isinstance(decision, retry.Retry) and decision.held is not None:
                out.held.append(
                    ledger.Held(row.id, decision.held, decision.at, decision.code, decision.title)
                )
            elif isinstance(decision, retry.Retry):
                out.requeued.append(ledger.Requeued(row.id, decision.at, decision.code, decision.title))
            else:
                out.failed.append(ledger.Failed(row.id, decision.code, decision.title, decision.detail, now))
        for template_id, decision in refused.items():
            self._template_refused(template_id, decision)
        if credentials is not None:
            self._stop_for_credentials(plan, credentials)
        return credentials is not None

    def _template_refused(self, template_id: int, decision: retry.Withheld) -> None:
        """Meta answered that the template is paused (132015) or disabled (132016): it is marked
        so, as a webhook would have, so that no part of any batch sends it any more."""
        template = Template.get_by_id(template_id)
        event = TemplateStatusEvent(
            template.name,
            template.language,
            decision.status,
            describe_failure(decision.code, decision.title),
            template.meta_id,
            self.clock.now(),
        )
        alerts: list[Alert] = []
        touched: set[int] = set()
        with self.db.atomic():
            self.platform.apply(event, alerts, touched)
        for kind, text, where in alerts:
            self.notifier.alert(kind, text, where)

    def _stop_for_credentials(self, plan: list[ledger.Claimed], err: CredentialsError) -> None:
        reason = f"WhatsApp refused the access token ({err.reason}); fix WHATSAPP_TOKEN, then resume"
        for broadcast_id in sorted({r.broadcast_id for r in plan if r.broadcast_id}):
            self.lifecycle.move(broadcast_id, "pause", by=META, status_reason=reason)
        self.notifier.alert("credentials", reason, None)

    def _finish(self, rows: list[ledger.Claimed], out: ledger.Outcomes, result: BatchResult) -> None:
        """Write outcomes; rows with no outcome (an exception mid-way) stay ``sending`` and
        are reconciled like a crash."""
        unused_caps = self._unused_caps(rows, out)
        unused_reach = self._unused_reach(rows, out)
        enrollments = {r.enrollment_id for r in rows if r.enrollment_id}
        tallies = _tallies(rows, out)
        judge: set[int] = set()
        with self.db.atomic():
            ledger.record(self.db, out)
            cap_store.release(self.db, unused_caps)
            self.limits.hand_back(unused_reach, self.clock.now())
            if self.breaker is not None and tallies:
                judge = self.breaker.count(tallies)
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
        result.requeued += len(out.requeued) + len(out.returned)
        result.held += len(out.held)
        result.unconfirmed += len(out.ambiguous)
        result.broadcasts |= {r.broadcast_id for r in rows if r.broadcast_id}
        result.enrollments |= enrollments
        if self.breaker is not None and judge:
            for kind, text, where in self.breaker.judge(judge):
                if where:
                    result.broadcasts.add(int(where["id"]))
                self.notifier.alert(kind, text, where)
        if self.on_broadcast_touched and result.broadcasts:
            self.on_broadcast_touched(result.broadcasts)

    def _unused_caps(self, rows: list[ledger.Claimed], out: ledger.Outcomes) -> list[tuple[int, datetime]]:
        """Cap claims to hand back: the send failed permanently, was skipped or will be retried."""
        not_sent = out.not_sent()
        claims = dict(out.cap_claims)
        # in contact order, as the reach hand-back and every claim lock contacts: no deadlock
        return sorted((r.contact_id, claims[r.id]) for r in rows if r.id in claims and r.id in not_sent)

    def _unused_reach(self, rows: list[ledger.Claimed], out: ledger.Outcomes) -> list[tuple[int, datetime]]:
        """Reach to hand back: claimed for contacts none of whose rows went (a send that may have
        been accepted, unconfirmed, keeps it)."""
        if not out.reach_claims:
            return []
        not_sent = out.not_sent()
        reached = {r.contact_id for r in rows if r.id not in not_sent}
        return [(contact_id, at) for contact_id, at in out.reach_claims if contact_id not in reached]


def _tallies(rows: list[ledger.Claimed], out: ledger.Outcomes) -> dict[int, Tally]:
    """What the circuit breaker counts of a batch, per broadcast: sends answered (accepted or
    failed), failures, and recipients who stopped marketing (131050, an opt-out)."""
    broadcast_of = {r.id: r.broadcast_id for r in rows if r.broadcast_id}
    counts: dict[int, list[int]] = {}
    for s in out.sent:
        if s.id in broadcast_of:
            counts.setdefault(broadcast_of[s.id], [0, 0, 0])[0] += 1
    for f in out.failed:
        if f.id in broadcast_of:
            tally = counts.setdefault(broadcast_of[f.id], [0, 0, 0])
            tally[0] += 1
            tally[1 if f.code != STOP_CODE else 2] += 1
    return {b: Tally(*n) for b, n in counts.items()}
