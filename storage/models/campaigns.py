"""Broadcasts, sequences (with immutable versions) and enrollments."""

from __future__ import annotations

import peewee

from storage.fields import JSONTextField, UTCDateTimeField
from storage.models.base import BaseModel
from storage.models.contacts import Contact
from storage.models.templates import Template


class Broadcast(BaseModel):
    id = peewee.AutoField()
    name = peewee.TextField()
    template = peewee.ForeignKeyField(Template)
    template_id: int  # the foreign key's raw value, which peewee adds as an attribute
    tags = JSONTextField(default=list)
    status = peewee.TextField()
    scheduled_at = UTCDateTimeField(null=True)
    timezone = peewee.TextField()
    created_by = peewee.TextField(default="")
    face = peewee.TextField(default="api")
    notify = JSONTextField(default=dict)  # where progress and the funnel are reported
    status_reason = peewee.TextField(null=True)
    held_reason = peewee.TextField(null=True)  # a rule paused it (``breaker``); cleared on resume
    audience_total = peewee.IntegerField(null=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()
    started_at = UTCDateTimeField(null=True)
    completed_at = UTCDateTimeField(null=True)
    params = JSONTextField(null=True)  # template parameter mapping (list or dict)


class Sequence(BaseModel):
    id = peewee.AutoField()
    name = peewee.TextField(unique=True)
    status = peewee.TextField()
    version = peewee.IntegerField()
    trigger_type = peewee.TextField()
    trigger_tag = peewee.TextField(null=True)
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


class SequenceVersion(BaseModel):
    id = peewee.AutoField()
    sequence = peewee.ForeignKeyField(Sequence, backref="versions")
    version = peewee.IntegerField()
    definition = JSONTextField()
    created_at = UTCDateTimeField()

    class Meta:
        indexes = ((("sequence", "version"), True),)


class Enrollment(BaseModel):
    id = peewee.AutoField()
    sequence = peewee.ForeignKeyField(Sequence, backref="enrollments")
    version = peewee.ForeignKeyField(SequenceVersion, column_name="version_id")
    contact = peewee.ForeignKeyField(Contact)
    contact_id: int
    status = peewee.TextField()
    current_step = peewee.TextField(null=True)
    next_run_at = UTCDateTimeField(null=True)
    step_started_at = UTCDateTimeField(null=True)
    claimed_at = UTCDateTimeField(null=True)
    exit_reason = peewee.TextField(null=True)
    source = peewee.TextField()
    enrolled_at = UTCDateTimeField()
    finished_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("sequence", "contact"), True),)
