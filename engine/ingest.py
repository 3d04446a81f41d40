"""Apply webhook bodies from the inbox: statuses, inbound messages, opt-outs, what Meta says.

Bodies are applied in arrival order, a group per transaction; replies (the
STOP and START confirmations) and alerts go out after the commit, so a crash
never confirms something that was not saved. Every event kind is idempotent:
a body Meta delivers twice changes nothing the second time.

One poison body never stalls the others (DESIGN §9.6): when a group fails,
it is halved until the failing body stands alone, so the others apply in a
few transactions; a body that fails alone is retried alone
on later passes and, after five failures, set aside in the quarantine with
the reason (an alert says so), while every other body is applied. A failure
of the database itself (a deadlock, a lost connection) is not the body's
fault: the group stays in the inbox for the next pass, untouched.

Items Herald does not understand were read as ``Ignored`` by the parser:
they are counted by reason (``herald_webhook_items_ignored_total``) and
logged once per reason per process, never raised.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import peewee

from engine.audit import Audit
from engine.breaker import Breaker
from engine.clock import Clock
from engine.contacts import Contacts
from engine.inbound import Inbound, InboundHook, Replied
from engine.lifecycle import Lifecycle
from engine.notify import Notifier
from engine.platform import Alert, Platform
from engine.statuses import apply_statuses
from engine.whatsapp.errors import MalformedWebhook
from engine.whatsapp.events import (
    Event,
    IdentityChange,
    Ignored,
    InboundEvent,
    MarketingPreferenceEvent,
    StatusEvent,
    UserIdentity,
)
from engine.whatsapp.messages import TextMessage
from engine.whatsapp.webhook import parse
from storage import counters
from storage import inbox as inbox_store
from storage.breaker import Tally

log = logging.getLogger("herald.ingest")

INBOX_LEASE = timedelta(minutes=5)
RETRY_ALONE = 20  # failed bodies retried per pass, each alone


@dataclass
class IngestResult:
    bodies: int = 0
    statuses: int = 0
    pending: int = 0
    inbound: int = 0
    ignored: int = 0
    quarantined: int = 0
    broadcasts: set[int] = field(default_factory=set)
    enrollments: set[int] = field(default_factory=set)
    replies: list[TextMessage] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    judge: set[int] = field(default_factory=set)  # broadcasts whose breaker window moved

    def add(self, other: IngestResult) -> None:
        for name in ("bodies", "statuses", "pending", "inbound", "ignored", "quarantined"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.broadcasts |= other.broadcasts
        self.enrollments |= other.enrollments
        self.replies += other.replies
        self.alerts += other.alerts
        self.judge |= other.judge


class Ingest:
    def __init__(
        self,
        database: peewee.Database,
        clock: Clock,
        contacts: Contacts,
        notifier: Notifier,
        *,
        reply: Callable[[TextMessage], None],
        on_broadcasts: Callable[[set[int]], None] | None = None,
        on_enrollments: Callable[[set[int]], None] | None = None,
        phone_number_id: str | None = None,
        lifecycle: Lifecycle | None = None,
        breaker: Breaker | None = None,
    ) -> None:
        self.db = database
        self.clock = clock
        self.contacts = contacts
        self.notifier = notifier
        self.reply = reply
        self.on_broadcasts = on_broadcasts
        self.on_enrollments = on_enrollments
        self.phone_number_id = phone_number_id or None  # this business number: others' are ignored
        self.inbound = Inbound(database, clock, contacts)
        self.breaker = breaker
        lifecycle = lifecycle or Lifecycle(database, clock, Audit(clock))
        self.platform = Platform(database, clock, lifecycle, breaker)
        self._logged: set[str] = set()

    @property
    def inbound_hooks(self) -> list[InboundHook]:
        return self.inbound.hooks

    # -- the inbox -----------------------------------------------------------------------

    def process_inbox(self, limit: int = 100, *, ids: Sequence[int] | None = None) -> IngestResult:
        """Apply up to ``limit`` stored bodies (with ``ids``, only those still in the inbox).
        Safe in several processes at once.

        The bodies are taken from the inbox in the transaction that applies
        them: one commit, and a failed apply leaves them in the inbox. When a
        group fails for any reason but the database's, it is split in halves
        and each is applied on its own, down to single bodies: the good ones
        go at once, in a few transactions, and the poison one is counted.
        """
        now = self.clock.now()
        taken: list[tuple[int, str]] = []
        try:
            with self.db.atomic():
                taken = inbox_store.take(self.db, now - INBOX_LEASE, limit, ids=ids)
                if not taken:
                    return IngestResult()
                result = self._apply_bodies(taken)
        except peewee.OperationalError:
            raise  # a deadlock, a lost connection: the bodies stay for the next pass
        except Exception:
            log.warning(
                "applying %d webhook bodies together failed; looking for the one that fails", len(taken)
            )
            return self._split([body_id for body_id, _ in taken])
        self.after_commit(result)
        return result

    def retry_failed(self, limit: int = RETRY_ALONE) -> IngestResult:
        """Bodies that failed before, each alone (the tick calls this once a pass)."""
        total = IngestResult()
        for body_id in inbox_store.failed(self.db, limit):
            total.add(self._apply_group([body_id]))
        return total

    def _split(self, ids: Sequence[int]) -> IngestResult:
        """Apply the halves of a group that failed, each halved again when it fails."""
        total = IngestResult()
        middle = len(ids) // 2
        for half in (ids[:middle], ids[middle:]):
            if half:
                total.add(self._apply_group(half))
        return total

    def _apply_group(self, ids: Sequence[int]) -> IngestResult:
        try:
            with self.db.atomic():
                taken = inbox_store.take(self.db, self.clock.now() - INBOX_LEASE, len(ids), ids=ids)
                if not taken:
                    return IngestResult()
                result = self._apply_bodies(taken)
        except peewee.OperationalError:
            raise
        except Exception as exc:
            if len(ids) > 1:
                return self._split(ids)
            result = IngestResult()
            result.quarantined = self._failed(ids[0], exc)
            return result
        self.after_commit(result)
        return result

    def _failed(self, body_id: int, exc: Exception) -> int:
        error = f"{type(exc).__name__}: {exc}"
        with self.db.atomic():
            quarantined = inbox_store.fail(self.db, body_id, error, self.clock.now())
        if not quarantined:
            log.warning("webhook body %s failed to apply; it is retried alone: %s", body_id, error)
            return 0
        log.error(
            "webhook body %s failed %d times and is quarantined: %s",
            body_id,
            inbox_store.QUARANTINE_AFTER,
            error,
        )
        self.notifier.alert(
            "webhook_quarantined",
            f"A webhook from Meta could not be applied after {inbox_store.QUARANTINE_AFTER} tries and is set"
            f" aside (inbox body {body_id}: {error[:200]}). Everything else is applied; the body is kept"
            " in webhook_quarantine.",
            None,
        )
        return 1

    def _apply_bodies(self, taken: Sequence[tuple[int, str]]) -> IngestResult:
        """Parse and apply bodies taken in this transaction."""
        events: list[Event] = []
        unreadable: list[int] = []
        for inbox_id, body in taken:
            try:
                events.extend(parse(body, phone_number_id=self.phone_number_id))
            except MalformedWebhook:  # checked on receipt: only a hand-made row gets here
                unreadable.append(inbox_id)
        if unreadable:
            log.error("webhook bodies %s are not WhatsApp notifications; quarantined", unreadable)
            inbox_store.quarantine(
                self.db, unreadable, "not a WhatsApp Business Account notification", self.clock.now()
            )
        result = self.apply(events)
        result.bodies = len(taken)
        result.quarantined = len(unreadable)
        if result.enrollments and self.on_enrollments:
            # in the same transaction: a status an enrollment waits for (a read, say) and its
            # wake-up commit together, so a crash cannot leave it waiting for its timeout
            self.on_enrollments(result.enrollments)
        return result

    # -- events --------------------------------------------------------------------------

    def apply(self, events: Sequence[Event]) -> IngestResult:
        """Apply parsed events (inside the caller's transaction)."""
        now = self.clock.now()
        result = IngestResult()
        self.inbound.learn([e for e in events if isinstance(e, UserIdentity)])
        statuses = [e for e in events if isinstance(e, StatusEvent)]
        applied = apply_statuses(self.db, statuses, now)
        result.statuses = applied.applied
        result.pending = applied.pending
        result.broadcasts |= applied.broadcasts or set()
        result.enrollments |= applied.enrollments or set()
        replied = Replied()
        for contact_id in applied.opted_out or ():
            self.inbound.opt_out_contact(contact_id, "meta_131050", replied)
        ignored: Counter[str] = Counter()
        for event in events:
            if isinstance(event, InboundEvent):
                self.inbound.message(event, replied)
            elif isinstance(event, MarketingPreferenceEvent):
                self.inbound.preference(event, replied)
            elif isinstance(event, IdentityChange):
                self.inbound.identity_changed(event)
            elif isinstance(event, Ignored):
                ignored[event.reason[:80]] += 1
                self._log_once(event)
            elif not isinstance(event, StatusEvent | UserIdentity):
                self.platform.apply(event, result.alerts, result.broadcasts)
        if ignored:
            counters.add(self.db, counters.IGNORED_WEBHOOK_ITEMS, ignored)
        result.ignored = sum(ignored.values())
        result.inbound = replied.inbound
        result.replies = replied.replies
        result.broadcasts |= replied.broadcasts
        result.enrollments |= replied.enrollments
        if self.breaker is not None:
            tallies = {b: Tally(0, n, 0) for b, n in (applied.failed or {}).items()}
            for b, t in self.breaker.opted_out(replied.opted_out).items():
                tallies[b] = tallies.get(b, Tally(0, 0, 0))._replace(optouts=t.optouts)
            result.judge |= self.breaker.count(tallies)
        return result

    def _log_once(self, event: Ignored) -> None:
        if event.reason in self._logged:
            log.debug("ignored webhook item: %s (%s)", event.reason, event.detail)
            return
        self._logged.add(event.reason)
        log.info(
            "ignored webhook item: %s (%s %s); counted in herald_webhook_items_ignored_total, logged once",
            event.reason,
            event.field or "webhook",
            event.detail,
        )

    def after_commit(self, result: IngestResult) -> None:
        for message in result.replies:
            self.reply(message)
        if self.breaker is not None and result.judge:
            tripped = self.breaker.judge(result.judge)
            result.broadcasts |= {int(where["id"]) for _, _, where in tripped if where}
            result.alerts += tripped
        for kind, text, broadcast in result.alerts:
            self.notifier.alert(kind, text, broadcast)
        if result.broadcasts and self.on_broadcasts:
            self.on_broadcasts(result.broadcasts)
