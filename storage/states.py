"""Every state a stored row can be in, named once; the engine and storage both read them here.

    BroadcastStatus   a broadcast's place in its lifecycle (the moves: engine/lifecycle.py)
    RowState          a send-ledger row, ``outbound_message.state`` (the moves: storage/ledger.py)
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
    """A ledger row: queued → dispatched → sending → sent | failed | skipped (storage/ledger.py)."""

    QUEUED = "queued"
    DISPATCHED = "dispatched"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


PENDING = (RowState.QUEUED, RowState.DISPATCHED, RowState.SENDING)  # not settled yet
SETTLED = (RowState.FAILED, RowState.SKIPPED)  # final: a status webhook never moves them back
TERMINAL = (RowState.SENT, RowState.FAILED, RowState.SKIPPED)  # a sequence step may go on


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
