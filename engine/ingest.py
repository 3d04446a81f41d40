"""Apply webhook bodies from the inbox: statuses, inbound messages, opt-outs, template changes.

Bodies are applied in arrival order, a group per transaction; replies (the
STOP and START confirmations) and notifications go out after the commit, so
a crash never confirms something that was not saved. Every event kind is
idempotent: a body Meta delivers twice changes nothing the second time.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import peewee

from engine.actor import META, Actor
from engine.audit import Audit
from engine.clock import Clock
from engine.contacts import ContactRow, Contacts
from engine.errors import Conflict
from engine.lifecycle import Lifecycle
from engine.notify import Notifier
from engine.phones import mask_phone
from engine.statuses import apply_statuses
from engine.whatsapp.errors import MalformedWebhook
from engine.whatsapp.messages import TextMessage
from engine.whatsapp.webhook import (
    Event,
    InboundEvent,
    MarketingPreferenceEvent,
    StatusEvent,
    SystemErrorEvent,
    TemplateStatusEvent,
    UnknownEvent,
    parse,
)
from storage import inbox as inbox_store
from storage.fields import to_db_time
from storage.models import Broadcast, Contact, Template
from storage.sql import execute, fetchall
from storage.states import BroadcastStatus, ContactStatus, TemplateStatus

log = logging.getLogger("herald.ingest")

REPLY_WINDOW = timedelta(hours=72)  # an inbound message counts as a reply to sends this recent
INBOX_LEASE = timedelta(minutes=5)
STOP_WORDS = frozenset({"stop", "unsubscribe", "stop promotions", "opt out", "optout", "opt-out", "cancel"})
START_WORDS = frozenset({"start", "subscribe", "unstop", "opt in", "optin", "opt-in"})

STOPPED_REPLY = "You will not receive promotional messages from us any more. Reply START to subscribe again."
STARTED_REPLY = "You are subscribed again. Reply STOP at any time to stop promotional messages."

# A face that reads some inbound messages as its own (an admin's command): given the message and
# the sender's contact id, it returns its replies, or None when the message is not for it.
InboundHook = Callable[[InboundEvent, int | None], list[TextMessage] | None]


def _themselves(phone: str) -> Actor:
    """The contact, acting over WhatsApp (STOP, START, the marketing preference)."""
    return Actor("whatsapp", mask_phone(phone))


def _folded(text: str) -> str:
    """Case- and accent-insensitive, single-spaced: "  Stop Promoções " → "stop promocoes"."""
    plain = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


@dataclass
class IngestResult:
    bodies: int = 0
    statuses: int = 0
    pending: int = 0
    inbound: int = 0
    broadcasts: set[int] = field(default_factory=set)
    enrollments: set[int] = field(default_factory=set)
    replies: list[TextMessage] = field(default_factory=list)
    # (kind, text, the broadcast concerned or None): see Notifier.alert
    alerts: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)


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
        lifecycle: Lifecycle | None = None,
    ) -> None:
        self.db = database
        self.clock = clock
        self.contacts = contacts
        self.notifier = notifier
        self.reply = reply
        self.on_broadcasts = on_broadcasts
        self.on_enrollments = on_enrollments
        self.lifecycle = lifecycle or Lifecycle(database, clock, Audit(clock))
        self.inbound_hooks: list[InboundHook] = []

    def process_inbox(self, limit: int = 100, *, ids: Sequence[int] | None = None) -> IngestResult:
        """Apply up to ``limit`` stored bodies (with ``ids``, only those still in the inbox).
        Safe in several processes at once.

        The bodies are taken from the inbox in the transaction that applies
        them: one commit, and a failed apply (a deadlock with a worker writing
        the same ledger rows, say) leaves them in the inbox for the next pass.
        """
        now = self.clock.now()
        with self.db.atomic():
            taken = inbox_store.take(self.db, now - INBOX_LEASE, limit, ids=ids)
            if not taken:
                return IngestResult()
            events: list[Event] = []
            for inbox_id, body in taken:
                try:
                    events.extend(parse(body))
                except MalformedWebhook as exc:  # checked on receipt; only a hand-made row gets here
                    log.warning("inbox body %s is malformed and is dropped: %s", inbox_id, exc)
            result = self.apply(events)
            if result.enrollments and self.on_enrollments:
                # in the same transaction: a status an enrollment waits for (a read, say) and its
                # wake-up commit together, so a crash cannot leave it waiting for its timeout
                self.on_enrollments(result.enrollments)
        result.bodies = len(taken)
        self.after_commit(result)
        return result

    def apply(self, events: Sequence[Event]) -> IngestResult:
        """Apply parsed events (inside the caller's transaction)."""
        now = self.clock.now()
        result = IngestResult()
        statuses = [e for e in events if isinstance(e, StatusEvent)]
        applied = apply_statuses(self.db, statuses, now)
        result.statuses = applied.applied
        result.pending = applied.pending
        result.broadcasts |= applied.broadcasts or set()
        result.enrollments |= applied.enrollments or set()
        if applied.opted_out:
            for contact_id in applied.opted_out:
                self._opt_out_id(contact_id, "meta_131050")
        for event in events:
            if isinstance(event, InboundEvent):
                self._inbound(event, result)
            elif isinstance(event, TemplateStatusEvent):
                self._template_status(event, result)
            elif isinstance(event, MarketingPreferenceEvent):
                self._preference(event)
            elif isinstance(event, SystemErrorEvent):
                text = "; ".join(e.reason for e in event.errors) or "unspecified"
                result.alerts.append(("whatsapp_error", f"WhatsApp reported an account error: {text}.", None))
            elif isinstance(event, UnknownEvent):
                log.debug("ignored webhook field %s %s", event.field, event.detail)
        return result

    def after_commit(self, result: IngestResult) -> None:
        for message in result.replies:
            self.reply(message)
        for kind, text, broadcast in result.alerts:
            self.notifier.alert(kind, text, broadcast)
        if result.broadcasts and self.on_broadcasts:
            self.on_broadcasts(result.broadcasts)

    # -- inbound messages -------------------------------------------------------------

    def _inbound(self, event: InboundEvent, result: IngestResult) -> None:
        contact = Contact.get_or_none(Contact.phone == event.phone)
        contact_id = contact.id if contact else None
        new = fetchall(
            self.db,
            "INSERT INTO inbound_message (wamid, contact_id, phone, kind, body, sent_at, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (wamid) DO NOTHING RETURNING id",
            [
                event.wamid,
                contact_id,
                event.phone,
                event.kind,
                (event.text or "")[:4096],
                to_db_time(event.at),
                to_db_time(self.clock.now()),
            ],
        )
        if not new:
            return  # Meta delivered this message before: already handled
        result.inbound += 1
        if contact_id is not None:
            cursor = execute(
                self.db,
                "UPDATE outbound_message SET replied_at = ? WHERE contact_id = ? AND replied_at IS NULL"
                " AND accepted_at IS NOT NULL AND accepted_at <= ? AND accepted_at >= ?"
                " RETURNING broadcast_id, enrollment_id",
                [
                    to_db_time(event.at),
                    contact_id,
                    to_db_time(event.at),
                    to_db_time(event.at - REPLY_WINDOW),
                ],
            )
            replied = cursor.fetchall()
            result.broadcasts |= {r[0] for r in replied if r[0]}
            result.enrollments |= {r[1] for r in replied if r[1]}
        for hook in self.inbound_hooks:
            replies = hook(event, contact_id)
            if replies is not None:
                result.replies.extend(replies)
                return  # an admin command, handled by its face
        words = {_folded(event.text), _folded(event.payload or "")}
        if words & STOP_WORDS:
            source = "button" if event.kind in ("button", "interactive") else "keyword"
            if self._opt_out_phone(event.phone, source):
                result.replies.append(TextMessage(to=event.phone, body=STOPPED_REPLY))
        elif words & START_WORDS and contact is not None and not contact.opted_in:
            try:
                self.contacts.set_opt_in(contact.id, True, by=_themselves(contact.phone), source="keyword")
            except Conflict:
                return
            result.replies.append(TextMessage(to=event.phone, body=STARTED_REPLY))

    def _opt_out_phone(self, phone: str, source: str) -> bool:
        contact = Contact.get_or_none(Contact.phone == phone)
        if contact is None:
            # someone Herald never stored says STOP: remember it, so no import can add them
            self.contacts.write([ContactRow(phone=phone, opted_in=False)], source=source)
            return True
        if not contact.opted_in:
            return False
        self.contacts.set_opt_in(contact.id, False, by=_themselves(phone), source=source)
        return True

    def _opt_out_id(self, contact_id: int, source: str) -> None:
        contact = Contact.get_or_none(Contact.id == contact_id)
        if contact is not None and contact.opted_in and contact.status == ContactStatus.ACTIVE:
            self.contacts.set_opt_in(contact_id, False, by=_themselves(contact.phone), source=source)

    def _preference(self, event: MarketingPreferenceEvent) -> None:
        contact = Contact.get_or_none(Contact.phone == event.phone)
        if event.value == "stop":
            self._opt_out_phone(event.phone, "user_preferences")
        elif contact is not None and not contact.opted_in and contact.status == ContactStatus.ACTIVE:
            try:
                self.contacts.set_opt_in(
                    contact.id, True, by=_themselves(contact.phone), source="user_preferences"
                )
            except Conflict:
                log.info("resume from %s ignored: opted out by other means", mask_phone(event.phone))

    # -- template status ----------------------------------------------------------------

    def _template_status(self, event: TemplateStatusEvent, result: IngestResult) -> None:
        template = Template.get_or_none((Template.name == event.name) & (Template.language == event.language))
        if template is None:
            template = Template.get_or_none(Template.name == event.name)
        if template is None or template.status == event.status:
            return
        Template.update(status=event.status, reason=event.reason, updated_at=self.clock.now()).where(
            Template.id == template.id
        ).execute()
        if event.status == TemplateStatus.APPROVED:
            result.alerts.append(
                (
                    "template_approved",
                    f"Template {event.name} is APPROVED again; paused broadcasts can be resumed.",
                    None,
                )
            )
            return
        why = f"template {event.name} is {event.status}" + (f" ({event.reason})" if event.reason else "")
        sending = list(
            Broadcast.select().where(
                (Broadcast.template == template.id) & (Broadcast.status == BroadcastStatus.SENDING)
            )
        )
        affected = [b for b in sending if self.lifecycle.move(b.id, "pause", by=META, status_reason=why)]
        result.broadcasts |= {b.id for b in affected}
        text = f"{why[0].upper()}{why[1:]}"
        if not affected:
            result.alerts.append(("template_paused", f"{text}: no broadcast was sending.", None))
        for b in affected:  # each where its broadcast reports (its Slack channel, say)
            where = {"id": b.id, "name": b.name, "notify": b.notify}
            result.alerts.append(("template_paused", f"{text}: paused “{b.name}”.", where))
