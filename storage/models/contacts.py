"""Contacts, tags and the contact-tag link."""

from __future__ import annotations

import peewee

from storage.fields import JSONTextField, UTCDateTimeField
from storage.models.base import BaseModel
from storage.states import ContactStatus


class Contact(BaseModel):
    id = peewee.AutoField()
    phone = peewee.TextField(unique=True, null=True)  # E.164; None for a username user
    wa_user_id = peewee.TextField(unique=True, null=True)  # business-scoped user id (US.1349...)
    username = peewee.TextField(null=True)
    name = peewee.TextField(default="")
    opted_in = peewee.BooleanField(default=True)
    status = peewee.TextField(default=ContactStatus.ACTIVE)
    attributes = JSONTextField(default=dict)
    opted_out_at = UTCDateTimeField(null=True)
    opt_out_source = peewee.TextField(null=True)
    # The frequency cap: the last MARKETING claim and the one before it, so a
    # send that fails permanently can hand its claim back.
    last_marketing_at = UTCDateTimeField(null=True)
    prev_marketing_at = UTCDateTimeField(null=True)
    # The messaging limit: when a template last reached the contact, and the time before.
    last_reach_at = UTCDateTimeField(null=True)
    prev_reach_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


class Tag(BaseModel):
    id = peewee.AutoField()
    name = peewee.TextField(unique=True)
    created_at = UTCDateTimeField()


class ContactTag(BaseModel):
    contact = peewee.ForeignKeyField(Contact, on_delete="CASCADE", backref="tag_links")
    tag = peewee.ForeignKeyField(Tag, on_delete="CASCADE", backref="contact_links")
    created_at = UTCDateTimeField()

    class Meta:
        primary_key = peewee.CompositeKey("contact", "tag")
