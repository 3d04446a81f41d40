"""WhatsApp message templates, as synced from the Cloud API or defined locally."""

from __future__ import annotations

import peewee

from storage.fields import JSONTextField, UTCDateTimeField
from storage.models.base import BaseModel


class Template(BaseModel):
    id = peewee.AutoField()
    name = peewee.TextField()
    language = peewee.TextField()
    category = peewee.TextField()  # MARKETING | UTILITY | AUTHENTICATION
    status = peewee.TextField()  # APPROVED | PENDING | REJECTED | PAUSED | DISABLED | ...
    parameter_format = peewee.TextField(default="POSITIONAL")  # or NAMED
    components = JSONTextField(default=list)
    parameters = JSONTextField(default=list)  # [{"component": "body", "name": "1"}, ...]
    meta_id = peewee.TextField(null=True)
    reason = peewee.TextField(null=True)
    source = peewee.TextField(default="local")  # local | cloud | sandbox
    updated_at = UTCDateTimeField()
    quality = peewee.TextField(null=True)  # GREEN | YELLOW | RED | UNKNOWN, as Meta rates it
    status_at = UTCDateTimeField(null=True)  # when Meta changed the status (webhook time)
    other_info = peewee.TextField(null=True)  # Meta's note on a pause: FIRST_PAUSE, SECOND_PAUSE...

    class Meta:
        indexes = ((("name", "language"), True),)
