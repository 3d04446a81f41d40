"""The composition root: everything Herald is made of, built once and passed in.

``build`` wires the engine for any process: the server, a worker, the
scheduler, the shell and the demo all use the same pieces. Nothing deeper in
the tree reads the environment or builds its own client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import peewee
import redis

from bot.settings import Settings
from engine.audit import Audit
from engine.breaker import Breaker, Thresholds
from engine.broadcasts import Broadcasts
from engine.broker import SEND_QUEUE, STEP_QUEUE, BrokerLink
from engine.clock import Clock, SystemClock
from engine.contacts import Contacts
from engine.dispatch import Dispatcher
from engine.events import EventBus
from engine.importer import Importer
from engine.ingest import Ingest
from engine.lifecycle import Lifecycle
from engine.limit import Limits
from engine.notify import FanOut
from engine.pipeline import SendPipeline
from engine.progress import Progress
from engine.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter
from engine.sender import Sender
from engine.sequences.runner import RUN_STEPS, SequenceRunner
from engine.sequences.service import Sequences
from engine.template_sync import TemplateSync
from engine.templates import Templates
from engine.tick import SEND_BATCH, Every, Tick
from engine.whatsapp.client import CloudApiClient
from engine.whatsapp.messages import CloudApi, TextMessage
from engine.whatsapp.sandbox import SANDBOX_NUMBER, Sandbox
from storage import inbox
from storage.database import open_database, parse_database_url
from storage.migrations import migrate
from storage.models import bind
from storage.runner import DbRunner, call_with_connection

READ_TIMEOUT = 30.0  # seconds to wait for Meta's answer to a read (the messaging limit)


@dataclass
class Herald:
    settings: Settings
    database: peewee.Database
    clock: Clock
    bus: EventBus
    contacts: Contacts
    templates: Templates
    template_sync: TemplateSync
    importer: Importer
    audit: Audit
    notifier: FanOut
    broadcasts: Broadcasts
    sequences: Sequences
    runner: SequenceRunner
    db: DbRunner
    sender: Sender
    pipeline: SendPipeline
    link: BrokerLink | None
    dispatcher: Dispatcher
    ingest: Ingest
    tick: Tick
    progress: Progress
    limits: Limits
    breaker: Breaker
    sandbox: Sandbox | None = None
    closers: list[Callable[[], Any]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self.closers):
            close()
        self.closers.clear()

    def in_db(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``fn`` on this thread's database connection (sync callers: shell, tests)."""
        return call_with_connection(self.database, fn, *args, **kwargs)


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    run_migrations: bool = True,
    direct_only: bool = False,
) -> Herald:
    """Open the database (migrating it) and wire the engine.

    ``direct_only`` never uses Redis for work (the shell, the demo, tests of
    direct mode); otherwise Redis is used whenever it answers and a worker
    listens.
    """
    database = open_database(settings.database_url)
    bind(database)
    if run_migrations:
        migrate(database)
    clock = clock or SystemClock()
    bus = EventBus()
    audit = Audit(clock)
    contacts = Contacts(database, bus, clock, audit)
    db_runner = DbRunner(database)
    templates = Templates(database, clock)
    notifier = FanOut()
    lifecycle = Lifecycle(database, clock, audit)
    limits = Limits(
        database,
        clock,
        override=settings.messaging_limit_override,
        read=lambda: sender.call(sender.api.messaging_limit(), timeout=READ_TIMEOUT),
    )
    broadcasts = Broadcasts(
        database,
        clock,
        templates,
        audit,
        notifier,
        lifecycle=lifecycle,
        timezone=settings.timezone,
        mps=settings.whatsapp_mps,
        grace=timedelta(minutes=settings.broadcast_grace_minutes),
        limits=limits,
    )
    progress = Progress(broadcasts, notifier)

    sandbox: Sandbox | None = None
    if settings.whatsapp_live:
        api_factory: Callable[[], CloudApi] = lambda: _live_client(settings)  # noqa: E731
    else:
        sandbox = Sandbox(
            clock=clock,
            deliver=_inbox_writer(database, clock),
            failure_rate=settings.sandbox_failure_rate,
            phone_number_id=settings.whatsapp_phone_number_id or SANDBOX_NUMBER,
        )
        api_factory = lambda: sandbox  # noqa: E731
    link = None if direct_only else BrokerLink(settings.redis_url, settings.queue_namespace)
    sender = Sender(api_factory, _limiter(settings, link))
    jobs: dict[str, Callable[..., Any]] = {}
    dispatcher = Dispatcher(jobs, link, threads=settings.worker_threads, direct_only=direct_only)
    sequences = Sequences(database, clock, templates, audit)
    sequences.subscribe(bus)
    runner = SequenceRunner(
        database, clock, dispatcher, status_timeout=timedelta(hours=settings.condition_timeout_hours)
    )
    breaker = Breaker(
        database,
        clock,
        lifecycle,
        Thresholds(
            window=settings.breaker_window,
            failure_rate=settings.breaker_failure_rate,
            optout_rate=settings.breaker_optout_rate,
        ),
    )
    pipeline = SendPipeline(
        database,
        clock,
        sender,
        notifier,
        lifecycle,
        on_broadcast_touched=progress.touch,
        on_enrollments_touched=runner.wake,
        limits=limits,
        breaker=breaker,
        max_131049=settings.retry_131049_max,
    )

    def send_batch(token: str, ids: list[int]) -> None:
        call_with_connection(database, pipeline.run_batch, token, ids)

    def run_steps(ids: list[int]) -> None:
        call_with_connection(database, runner.run_steps, ids)

    jobs.update({SEND_BATCH: send_batch, RUN_STEPS: run_steps})
    if link is not None:
        link.declare(SEND_BATCH, send_batch, queue=SEND_QUEUE)
        link.declare(RUN_STEPS, run_steps, queue=STEP_QUEUE)

    def reply(message: TextMessage) -> None:
        sender.submit(sender.api.send_text(message))

    ingest = Ingest(
        database,
        clock,
        contacts,
        notifier,
        reply=reply,
        on_broadcasts=progress.touch,
        on_enrollments=runner.wake,
        lifecycle=lifecycle,
        # notifications for another number of the same Meta app are not Herald's to apply
        phone_number_id=settings.whatsapp_phone_number_id or None,
        breaker=breaker,
    )
    tick = Tick(
        database,
        clock,
        broadcasts,
        dispatcher,
        ingest,
        mps=settings.whatsapp_mps,
        reconcile_wait=timedelta(minutes=settings.reconcile_minutes),
        limits=limits,
    )
    tick.add_job("sequences", runner.tick)
    tick.add_job("messaging_limit", limits.refresh_if_due)  # the first pass: on start; then hourly
    tick.add_job(
        "governor_housekeeping", Every(clock, timedelta(hours=1), lambda: (limits.forget(), breaker.forget()))
    )
    herald = Herald(
        settings=settings,
        database=database,
        clock=clock,
        bus=bus,
        contacts=contacts,
        templates=templates,
        template_sync=TemplateSync(
            database,
            templates,
            audit,
            sender,
            source="cloud" if settings.whatsapp_live else "sandbox",
            limits=limits,
        ),
        importer=Importer(contacts),
        audit=audit,
        notifier=notifier,
        broadcasts=broadcasts,
        sequences=sequences,
        runner=runner,
        db=db_runner,
        sender=sender,
        pipeline=pipeline,
        link=link,
        dispatcher=dispatcher,
        ingest=ingest,
        tick=tick,
        progress=progress,
        limits=limits,
        breaker=breaker,
        sandbox=sandbox,
    )
    herald.closers += [db_runner.close, sender.close, dispatcher.close]
    if link is not None:
        herald.closers.append(link.close)
    return herald


def _live_client(settings: Settings) -> CloudApi:
    assert settings.whatsapp_token is not None
    return CloudApiClient(
        base_url=settings.whatsapp_api_url,
        api_version=settings.whatsapp_api_version,
        token=settings.whatsapp_token.get_secret_value(),
        phone_number_id=settings.whatsapp_phone_number_id,
        business_account_id=settings.whatsapp_business_account_id,
        read_timeout=settings.whatsapp_timeout_seconds,
    )


def _limiter(settings: Settings, link: BrokerLink | None) -> RateLimiter:
    if link is None:
        return LocalRateLimiter(settings.whatsapp_mps)
    sender_id = settings.whatsapp_phone_number_id or "sandbox"
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=1, socket_connect_timeout=0.5)
    return RedisRateLimiter(client, f"{settings.queue_namespace}:rate:{sender_id}", settings.whatsapp_mps)


def _inbox_writer(database: peewee.Database, clock: Clock) -> Callable[[bytes], Any]:
    """The sandbox's webhook deliveries go into the same durable inbox as Meta's."""

    def put(body: bytes) -> None:
        with database.atomic():
            inbox.put(database, [body], clock.now())

    async def deliver(body: bytes) -> None:
        await asyncio.to_thread(call_with_connection, database, put, body)

    return deliver


def describe_database(settings: Settings) -> str:
    return parse_database_url(settings.database_url).describe()
