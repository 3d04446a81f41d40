"""Every state a stored row can be in, named once; the engine and storage both read them here.

    BroadcastStatus   a broadcast's place in its lifecycle (the moves: engine/lifecycle.py)
    RowState          a send-ledger row, ``outbound_message.state`` (the moves: storage/ledger.py)
    HeldReason        why a row, or a whole broadcast, waits for a later time by rule (the governor)
    EnrollmentStatus  a contact's run through a sequence
    SequenceStatus    a sequence's own lifecycle (engine/sequences/service.py)
    ContactStatus     active, or soft-deleted
    TemplateStatus    what Meta says of a template (others may come; only APPROVED is sent)
    Reason            why a ledger row ended skipped, or an enrollment exited

The members are ``StrEnum``s: they compare equal to the stored text, and SQL
written here may interpolate them (``state = '{RowState.SENT}'``): they are
fixed words, never user input.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class BroadcastStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    MISSED = "missed"


FINISHED = frozenset({BroadcastStatus.COMPLETED, BroadcastStatus.CANCELLED, BroadcastStatus.MISSED})
EDITABLE = frozenset({BroadcastStatus.DRAFT, BroadcastStatus.SCHEDULED})


class RowState(StrEnum):
    """A ledger row: queued → dispatched → sending → sent | failed | skipped (storage/ledger.py);
    ``held``: waiting by rule (``held_reason``) until ``next_attempt_at`` or until the rule lets
    it go, then queued again."""

    QUEUED = "queued"
    DISPATCHED = "dispatched"
    SENDING = "sending"
    HELD = "held"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


PENDING = (RowState.QUEUED, RowState.DISPATCHED, RowState.SENDING, RowState.HELD)  # not settled yet
UNSENT = (RowState.QUEUED, RowState.DISPATCHED, RowState.HELD)  # not handed to WhatsApp: a cancel skips them
SETTLED = (RowState.FAILED, RowState.SKIPPED)  # final: a status webhook never moves them back
TERMINAL = (RowState.SENT, RowState.FAILED, RowState.SKIPPED)  # a sequence step may go on


class HeldReason(StrEnum):
    """Why rows wait for a later time by rule (a funnel's ``held``, DESIGN §9.2).

    MESSAGING_LIMIT, RETRY_131049 (and QUIET_HOURS) hold single rows: the row is ``held`` with
    the reason and the moment it may go (``next_attempt_at``). TEMPLATE_PAUSED and BREAKER hold
    a whole broadcast: its template is paused by Meta, or the breaker paused it
    (``broadcast.held_reason``); its rows simply wait in the queue.
    """

    MESSAGING_LIMIT = "messaging_limit"
    TEMPLATE_PAUSED = "template_paused"
    BREAKER = "breaker"
    RETRY_131049 = "retry_131049"
    QUIET_HOURS = "quiet_hours"


# Row holds that end when their moment comes (the tick releases them); a MESSAGING_LIMIT hold
# ends when the limit has room, oldest first, whatever its moment (an estimate, then).
HELD_UNTIL_TIME = (HeldReason.RETRY_131049, HeldReason.QUIET_HOURS)


class EnrollmentStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    EXITED = "exited"


class SequenceStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    ARCHIVED = "archived"


class ContactStatus(StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"


class TemplateStatus(StrEnum):
    APPROVED = "APPROVED"
    PENDING = "PENDING"
    REJECTED = "REJECTED"
    PAUSED = "PAUSED"
    DISABLED = "DISABLED"


class TemplateCategory(StrEnum):
    MARKETING = "MARKETING"
    UTILITY = "UTILITY"
    AUTHENTICATION = "AUTHENTICATION"


class Reason(StrEnum):
    """Why a ledger row was skipped or an enrollment exited (besides ``missing_parameter:<name>``)."""

    FREQUENCY_CAP = "frequency_cap"
    OPTED_OUT = "opted_out"
    DELETED = "deleted"
    CANCELLED = "cancelled"
    ARCHIVED = "archived"
    EXITED = "exited"  # an enrollment that ended with no reason recorded
    NO_PHONE = "no_phone"  # a username user known by user id only, and a message Meta sends to numbers


def missing_parameter(name: str) -> str:
    """The skip reason of a recipient with no value for template parameter ``name``."""
    return f"missing_parameter:{name}"


def sql_in(states: Iterable[StrEnum]) -> str:
    """``('queued', 'dispatched')``: a fixed set of states for an SQL ``IN``."""
    return "(" + ", ".join(f"'{s}'" for s in states) + ")"
