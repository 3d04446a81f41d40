"""The composition root: everything Herald is made of, built once and passed in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import peewee

from bot.settings import Settings
from engine.audit import Audit
from engine.broadcasts import Broadcasts
from engine.clock import Clock, SystemClock
from engine.contacts import Contacts
from engine.events import EventBus
from engine.importer import Importer
from engine.notify import FanOut
from engine.templates import Templates
from storage.database import open_database, parse_database_url
from storage.migrations import migrate
from storage.models import bind
from storage.runner import DbRunner


@dataclass
class Herald:
    settings: Settings
    database: peewee.Database
    clock: Clock
    bus: EventBus
    contacts: Contacts
    templates: Templates
    importer: Importer
    audit: Audit
    notifier: FanOut
    broadcasts: Broadcasts
    db: DbRunner
    closers: list = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self.closers):
            close()
        self.closers.clear()


def build(settings: Settings, *, clock: Clock | None = None, run_migrations: bool = True) -> Herald:
    """Open the database (migrating it), and wire the engine."""
    database = open_database(settings.database_url)
    bind(database)
    if run_migrations:
        migrate(database)
    clock = clock or SystemClock()
    bus = EventBus()
    contacts = Contacts(database, bus, clock)
    runner = DbRunner(database)
    audit = Audit(clock)
    templates = Templates(database, clock)
    notifier = FanOut()
    broadcasts = Broadcasts(
        database,
        clock,
        templates,
        audit,
        notifier,
        timezone=settings.timezone,
        mps=settings.whatsapp_mps,
        grace=timedelta(minutes=settings.broadcast_grace_minutes),
    )
    herald = Herald(
        settings=settings,
        database=database,
        clock=clock,
        bus=bus,
        contacts=contacts,
        templates=templates,
        importer=Importer(contacts),
        audit=audit,
        notifier=notifier,
        broadcasts=broadcasts,
        db=runner,
    )
    herald.closers.append(runner.close)
    return herald


def describe_database(settings: Settings) -> str:
    return parse_database_url(settings.database_url).describe()
