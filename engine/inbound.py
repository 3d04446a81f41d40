"""What users send: replies, STOP and START, marketing preferences, and who they are.

A user is a phone number, a business-scoped user id (a username user whose number
Meta withholds), or both; every path here finds the contact by either. Every
handler is idempotent: Meta redelivers, and a body is applied again after a crash.
Replies (the STOP and START confirmations) are collected, not sent: the ingest
sends them after its transaction commits.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Sequence
from datetime import timedelta

import peewee

from engine.actor import Actor
from engine.clock import Clock
from engine.contacts import ContactRow, Contacts
from engine.errors import Conflict
from engine.phones import mask_identity
from engine.whatsapp.events import IdentityChange, InboundEvent, MarketingPreferenceEvent, UserIdentity
from engine.whatsapp.messages import TextMessage
from storage import contacts as contact_store
from storage.fields import to_db_time
from storage.models import Contact
from storage.sql import execute, fetchall
from storage.states import ContactStatus

log = logging.getLogger("herald.inbound")

REPLY_WINDOW = timedelta(hours=72)  # an inbound message counts as a reply to sends this recent
STOP_WORDS = frozenset({"stop", "unsubscribe", "stop promotions", "opt out", "optout", "opt-out", "cancel"})
START_WORDS = frozenset({"start", "subscribe", "unstop", "opt in", "optin", "opt-in"})

STOPPED_REPLY = "You will not receive promotional messages from us any more. Reply START to subscribe again."
STARTED_REPLY = "You are subscribed again. Reply STOP at any time to stop promotional messages."

# A face that reads some inbound messages as its own (an admin's command): given the message and
# the sender's contact id, it returns its replies, or None when the message is not for it.
InboundHook = Callable[[InboundEvent, int | None], list[TextMessage] | None]


def themselves(contact: Contact) -> Actor:
    """The contact, acting over WhatsApp (STOP, START, the marketing preference)."""
    return Actor("whatsapp", mask_identity(contact.phone or contact.wa_user_id))


def folded(text: str) -> str:
    """Case- and accent-insensitive, single-spaced: "  Stop Promoções " → "stop promocoes"."""
    plain = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


class Replied:
    """What applying inbound events produced, for the ingest to act on after its commit."""

    def __init__(self) -> None:
        self.inbound = 0
        self.replies: list[TextMessage] = []
        self.broadcasts: set[int] = set()
        self.enrollments: set[int] = set()
        self.opted_out: list[int] = []  # contacts who opted out or blocked (the circuit breaker counts them)


class Inbound:
    def __init__(self, database: peewee.Database, clock: Clock, contacts: Contacts) -> None:
        self.db = database
        self.clock = clock
        self.contacts = contacts
        self.hooks: list[InboundHook] = []

    # -- who ---------------------------------------------------------------------------

    def contact(self, phone: str | None, user_id: str | None) -> Contact | None:
        """The contact a user is, by phone, else by business-scoped user id."""
        if phone:
            found = Contact.get_or_none(Contact.phone == phone)
            if found is not None:
                return found
        if user_id:
            return Contact.get_or_none(Contact.wa_user_id == user_id)
        return None

    def learn(self, identities: Sequence[UserIdentity]) -> None:
        """Contacts known by one of a user's identifiers learn the other (one statement)."""
        contact_store.learn_user_ids(self.db, [(i.phone, i.user_id, i.username) for i in identities])

    def identity_changed(self, event: IdentityChange) -> None:
        """A new number or user id for the same person: the contact moves, none is added."""
        column = "phone" if event.kind == "number" else "wa_user_id"
        moved = contact_store.move_identity(self.db, column, event.old, event.new, self.clock.now())
        if moved is None:
            log.info(
                "identity change %s → %s not applied: no contact has the old one, or one has the new",
                mask_identity(event.old),
                mask_identity(event.new),
            )

    # -- messages ----------------------------------------------------------------------

    def message(self, event: InboundEvent, out: Replied) -> None:
        contact = self.contact(event.phone, event.user_id)
        contact_id = contact.id if contact else None
        new = fetchall(
            self.db,
            "INSERT INTO inbound_message"
            " (wamid, contact_id, phone, user_id, kind, body, sent_at, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (wamid) DO NOTHING RETURNING id",
            [
                event.wamid,
                contact_id,
                event.phone,
                event.user_id,
                event.kind,
                (event.text or "")[:4096],
                to_db_time(event.at),
                to_db_time(self.clock.now()),
            ],
        )
        if not new:
            return  # Meta delivered this message before: already handled
        out.inbound += 1
        if contact_id is not None:
            self._replied(contact_id, event, out)
        for hook in self.hooks:
            replies = hook(event, contact_id)
            if replies is not None:
                out.replies.extend(replies)
                return  # an admin command, handled by its face
        words = {folded(event.text), folded(event.payload or "")}
        answer = TextMessage(to=event.phone, body="", recipient=None if event.phone else event.user_id)
        if words & STOP_WORDS:
            source = "button" if event.kind in ("button", "interactive") else "keyword"
            if self._opt_out(event.phone, event.user_id, source, out):
                out.replies.append(answer.saying(STOPPED_REPLY))
        elif words & START_WORDS and contact is not None and not contact.opted_in:
            try:
                self.contacts.set_opt_in(contact.id, True, by=themselves(contact), source="keyword")
            except Conflict:
                return
            out.replies.append(answer.saying(STARTED_REPLY))

    def _replied(self, contact_id: int, event: InboundEvent, out: Replied) -> None:
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
        out.broadcasts |= {r[0] for r in replied if r[0]}
        out.enrollments |= {r[1] for r in replied if r[1]}

    def preference(self, event: MarketingPreferenceEvent, out: Replied) -> None:
        """WhatsApp's own "stop / resume marketing" setting (``user_preferences``)."""
        if event.value == "stop":
            self._opt_out(event.phone, event.user_id, "user_preferences", out)
            return
        contact = self.contact(event.phone, event.user_id)
        if contact is not None and not contact.opted_in and contact.status == ContactStatus.ACTIVE:
            try:
                self.contacts.set_opt_in(contact.id, True, by=themselves(contact), source="user_preferences")
            except Conflict:
                log.info("resume from %s ignored: opted out by other means", mask_identity(event.phone))

    def opt_out_contact(self, contact_id: int, source: str, out: Replied) -> None:
        contact = Contact.get_or_none(Contact.id == contact_id)
        if contact is not None and contact.opted_in and contact.status == ContactStatus.ACTIVE:
            self.contacts.set_opt_in(contact_id, False, by=themselves(contact), source=source)
            out.opted_out.append(contact_id)

    def _opt_out(self, phone: str | None, user_id: str | None, source: str, out: Replied) -> bool:
        contact = self.contact(phone, user_id)
        if contact is None:
            # someone Herald never stored says STOP: remember it, so no import can add them
            self.contacts.write([ContactRow(phone=phone, opted_in=False, wa_user_id=user_id)], source=source)
            return True
        if not contact.opted_in:
            return False
        self.contacts.set_opt_in(contact.id, False, by=themselves(contact), source=source)
        out.opted_out.append(contact.id)
        return True
