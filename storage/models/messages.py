"""The send ledger (one row per recipient per broadcast or sequence step) and inbound messages."""

from __future__ import annotations

import peewee

from storage.fields import JSONTextField, UTCDateTimeField
from storage.models.base import BaseModel
from storage.models.campaigns import Broadcast, Enrollment
from storage.models.contacts import Contact
from storage.models.templates import Template


class OutboundMessage(BaseModel):
    id = peewee.AutoField()
    broadcast = peewee.ForeignKeyField(Broadcast, null=True)
    enrollment = peewee.ForeignKeyField(Enrollment, null=True)
    step_id = peewee.TextField(null=True)
    contact = peewee.ForeignKeyField(Contact)
    template = peewee.ForeignKeyField(Template)
    contact_id: int
    broadcast_id: int | None
    enrollment_id: int | None
    state = peewee.TextField()
    batch = peewee.TextField(null=True)
    attempts = peewee.IntegerField(default=0)
    next_attempt_at = UTCDateTimeField(null=True)
    dispatched_at = UTCDateTimeField(null=True)
    claimed_at = UTCDateTimeField(null=True)
    cap_claimed_at = UTCDateTimeField(null=True)
    wamid = peewee.TextField(null=True, unique=True)
    accepted_at = UTCDateTimeField(null=True)
    delivered_at = UTCDateTimeField(null=True)
    read_at = UTCDateTimeField(null=True)
    failed_at = UTCDateTimeField(null=True)
    replied_at = UTCDateTimeField(null=True)
    error_code = peewee.IntegerField(null=True)
    error_title = peewee.TextField(null=True)
    error_detail = peewee.TextField(null=True)
    skip_reason = peewee.TextField(null=True)
    held_reason = peewee.TextField(null=True)  # why a held row waits (storage.states.HeldReason)
    retries_131049 = peewee.IntegerField(default=0)  # 24-hour waits for the per-user marketing limit
    created_at = UTCDateTimeField()
    # the ``pricing`` object of its statuses: how Meta bills it
    pricing_model = peewee.TextField(null=True)
    pricing_category = peewee.TextField(null=True)
    pricing_type = peewee.TextField(null=True)
    billable = peewee.BooleanField(null=True)

    class Meta:
        indexes = (
            (("broadcast", "contact"), True),
            (("enrollment", "step_id"), True),
        )


class InboundMessage(BaseModel):
    id = peewee.AutoField()
    wamid = peewee.TextField(unique=True)
    contact = peewee.ForeignKeyField(Contact, null=True)
    phone = peewee.TextField(null=True)
    user_id = peewee.TextField(null=True)  # the sender's business-scoped user id
    kind = peewee.TextField()
    body = peewee.TextField(default="")
    sent_at = UTCDateTimeField()
    received_at = UTCDateTimeField()


class WebhookInbox(BaseModel):
    """Webhook bodies, written durably before Meta gets its 200, applied afterwards."""

    id = peewee.AutoField()
    received_at = UTCDateTimeField()
    body = peewee.TextField()
    claimed_at = UTCDateTimeField(null=True)
    processed_at = UTCDateTimeField(null=True)
    attempts = peewee.IntegerField(default=0)  # failed applies; five and it is quarantined
    last_error = peewee.TextField(null=True)


class WebhookQuarantine(BaseModel):
    """A webhook body that failed to apply five times, set aside whole with the reason."""

    id = peewee.AutoField()
    inbox_id = peewee.BigIntegerField()
    received_at = UTCDateTimeField()
    quarantined_at = UTCDateTimeField()
    attempts = peewee.IntegerField()
    reason = peewee.TextField()
    body = peewee.TextField()


class PendingStatus(BaseModel):
    """A status for a wamid Herald has not recorded yet; applied once it is."""

    id = peewee.AutoField()
    wamid = peewee.TextField()
    callback = peewee.TextField(null=True)
    status = peewee.TextField()
    at = UTCDateTimeField()
    errors = JSONTextField(default=list)
    received_at = UTCDateTimeField()
    pricing = JSONTextField(null=True)


class AdminPending(BaseModel):
    """A change an admin asked for over WhatsApp, waiting for their YES (until ``expires_at``)."""

    phone = peewee.TextField(primary_key=True)
    broadcast = peewee.ForeignKeyField(Broadcast, null=True)
    broadcast_id: int | None
    intent = peewee.TextField(null=True)
    command = peewee.TextField(null=True)
    seen = peewee.TextField(null=True)  # the fingerprint of the preview the YES would confirm
    expires_at = UTCDateTimeField()
    created_at = UTCDateTimeField()
