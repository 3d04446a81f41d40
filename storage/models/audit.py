"""Who did what, from which face (slack, whatsapp, shell, api, system)."""

from __future__ import annotations

import peewee

from storage.fields import JSONTextField, UTCDateTimeField
from storage.models.base import BaseModel


class AuditLog(BaseModel):
    id = peewee.AutoField()
    at = UTCDateTimeField()
    face = peewee.TextField()
    actor = peewee.TextField()
    action = peewee.TextField()
    target = peewee.TextField(default="")
    detail = JSONTextField(default=dict)
