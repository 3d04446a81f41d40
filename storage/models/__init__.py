"""Every model, importable from one place."""

from storage.models.audit import AuditLog
from storage.models.base import BaseModel, bind, proxy
from storage.models.campaigns import Broadcast, Enrollment, Sequence, SequenceVersion
from storage.models.contacts import Contact, ContactTag, Tag
from storage.models.messages import (
    AdminPending,
    InboundMessage,
    OutboundMessage,
    PendingStatus,
    WebhookInbox,
    WebhookQuarantine,
)
from storage.models.templates import Template

ALL_MODELS: tuple[type[BaseModel], ...] = (
    Contact,
    Tag,
    ContactTag,
    Template,
    AuditLog,
    Broadcast,
    Sequence,
    SequenceVersion,
    Enrollment,
    OutboundMessage,
    InboundMessage,
    WebhookInbox,
    WebhookQuarantine,
    PendingStatus,
    AdminPending,
)

__all__ = [
    "ALL_MODELS",
    "AdminPending",
    "AuditLog",
    "BaseModel",
    "Broadcast",
    "Contact",
    "ContactTag",
    "Enrollment",
    "InboundMessage",
    "OutboundMessage",
    "PendingStatus",
    "Sequence",
    "SequenceVersion",
    "Tag",
    "Template",
    "WebhookInbox",
    "WebhookQuarantine",
    "bind",
    "proxy",
]
