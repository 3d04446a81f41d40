"""The model base. Models bind to one proxy, initialised at the composition root."""

from __future__ import annotations

import peewee

proxy = peewee.DatabaseProxy()


class BaseModel(peewee.Model):
    class Meta:
        database = proxy
        legacy_table_names = False


def bind(database: peewee.Database) -> None:
    """Point every model at ``database`` (called once per process)."""
    proxy.initialize(database)
