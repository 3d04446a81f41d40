"""A worker SIGKILLed five times during a 10,000-recipient broadcast: nobody lost, nobody doubled.

Real processes on a private Redis and one database: a ``python -m bot
scheduler`` for the whole run and, in turn, six ``python -m bot worker``
(one process of four threads each), against the fake Cloud API in this
process. The webhook receiver runs here too, and "Meta" posts a signed
``sent`` status for every message the fake accepted, echoing Herald's row
id in ``biz_opaque_callback_data``, a fraction of a second after the send.

Five times, once the fake has accepted a random number of sends (in five
increasing ranges, from a seeded generator whose seed is printed; set
``HERALD_KILL_SEED`` to replay a run), the worker's whole process group is
SIGKILLed: its batches die wherever they are (claimed and not sent,
accepted by WhatsApp and not recorded, half committed, prefetched from
Redis and not started). A new worker starts at once and takes over the
queue, and Meta's echoes of everything it accepted arrive and are applied.
Then what time would bring: Dramatiq hands the messages the dead worker had
fetched and not acknowledged back to the queue (its maintenance, run with
the heartbeat timeout at the kill), and the scheduler's watchdog runs as
it would once the reconciliation wait has passed since the kill (its
clock set to the kill plus the wait): what the dead worker left
``sending`` with no echo goes back to the queue; rows the live worker
claimed are newer than the kill and left alone.

Time is moved with the engine's own pieces (its Tick and Ingest on a clock
set forward) and Dramatiq's, never by changing their code. While a
replacement starts, the test beats a worker heartbeat in its place, so the
scheduler keeps queueing in Redis rather than sending itself. On
PostgreSQL a status batch may lose a deadlock to a batch's outcomes; its
bodies are then applied as a tick would apply them once their lease runs
out.

The template is a MARKETING one, so a row sent again also claims the
frequency cap again (the watchdog hands back the claim of a row it
requeues). The fake's log must show exactly one send per recipient; every
ledger row must be sent with the wamid of that one send, the broadcast
completed and its funnel whole. Each kill prints what it left behind.

The second test does the same to a drip sequence's step jobs and the sends
they queue (two kills, the first while the step jobs run), then runs the
one-day delay out on a clock moved a day ahead.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import peewee
import psutil
import pytest
from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker

from bot.container import Herald, build
from bot.web.app import create_app
from engine.broker import SEND_QUEUE, STEP_QUEUE, BrokerLink
from engine.ingest import INBOX_LEASE, Ingest
from engine.tick import Tick, TickReport
from engine.whatsapp.simulate import webhook
from storage import inbox
from storage.models import Broadcast, Contact, Enrollment, OutboundMessage
from tests.conftest import Api
from tests.fakes.cloud_api import FakeCloudApi
from tests.helpers import ledger_orphans, phones, seed_contacts
from tests.live import live_settings, process_env, sync_templates
from tests.services import PrivateRedis, terminate

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 10_000
KILLS = 5
NAMESPACE = "killtest"
NEVER = timedelta(days=36500)  # a dispatch lease nothing outlives
STAND_IN = "kill-test:replacement-starting"


class _At:
    """A clock stopped at one moment."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


class _Ahead:
    """The wall clock, ``by`` ahead."""

    def __init__(self, by: timedelta) -> None:
        self.by = by

    def now(self) -> datetime:
        return datetime.now(UTC) + self.by


async def _watchdog_after_the_wait(herald: Herald, killed: datetime) -> TickReport:
    """The scheduler's watchdog pass as it runs when the reconciliation wait has passed since
    the kill. Its dispatch lease is left out (Dramatiq has already handed the dead worker's
    messages back; and by then the live worker would have consumed the queue, which here
    it may not have yet)."""
    wait = herald.tick.reconcile_wait
    tick = Tick(
        herald.database,
        _At(killed + wait),
        herald.broadcasts,
        herald.dispatcher,
        herald.ingest,
        mps=herald.settings.whatsapp_mps,
        reconcile_wait=wait,
        dispatch_lease=NEVER,
    )
    report = TickReport()
    await asyncio.to_thread(herald.in_db, tick.watchdog, report)
    return report


@dataclass
class _Meta:
    """Posts a ``sent`` status (with the callback echo) for each message the fake accepted."""

    herald: Herald
    cloud: FakeCloudApi
    url: str
    echoed: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def _post(self) -> None:
        fresh = self.cloud.accepted[self.echoed :]
        self.echoed += len(fresh)
        statuses = [self.cloud.webhooks.status(m, "sent") for m in fresh]
        answers = await self.cloud.webhooks.post_statuses(self.url, statuses, per_body=100)
        assert set(answers) <= {200}, answers

    async def run(self, every: float = 0.25) -> None:
        while True:
            async with self.lock:
                await self._post()
            await asyncio.sleep(every)

    def _backlog(self) -> int:
        return int(self.herald.in_db(inbox.backlog, self.herald.database))

    @asynccontextmanager
    async def caught_up(self) -> AsyncIterator[None]:
        """Echo everything accepted so far and wait until it is applied; post nothing more
        until the block ends."""
        async with self.lock:
            await self._post()
            try:
                await _until(lambda: self._backlog() == 0, 5, "the echoes to be applied")
            except AssertionError:
                print("a webhook body waits for its lease (its apply lost a deadlock); applying it")
                # On PostgreSQL, applying a status batch can deadlock with a batch's outcomes (or
                # another status batch) on the same rows; the loser's bodies wait for their lease,
                # then a tick applies them: that tick, its clock past the lease (one more lease
                # per try, so a body a try claimed and failed to apply is free for the next).
                herald, tries = self.herald, 0
                while self._backlog():
                    tries += 1
                    assert tries < 100, "webhook bodies that never apply"
                    later = Ingest(
                        herald.database,
                        _Ahead(INBOX_LEASE * tries),
                        herald.contacts,
                        herald.notifier,
                        reply=herald.ingest.reply,
                    )
                    with suppress(peewee.OperationalError):
                        await asyncio.to_thread(herald.in_db, later.process_inbox)
                    await asyncio.sleep(0.05)
            yield


@dataclass
class _Kill:
    sends: int  # sends the fake had accepted when the worker died
    sending: int  # rows the dead worker left ``sending``
    echoed: int  # of those, reconciled as sent by their status echo
    resent: int  # the others: no echo came, so they go back to the queue


class _Processes:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.started: list[subprocess.Popen[bytes]] = []
        self.workers = 0

    def start(self, name: str, *args: str, group: bool = False) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", *args],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=group,
            )
        self.started.append(process)
        return process

    def worker(self) -> subprocess.Popen[bytes]:
        """A worker in a process group of its own (the supervisor and its child)."""
        self.workers += 1
        return self.start(f"worker-{self.workers}", "worker", "--processes", "1", group=True)

    def tails(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.logs.iterdir()))

    def stop(self) -> None:
        terminate(self.started)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker supervisor and its child at once; return when both are gone."""
    family = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    assert len(family) >= 2, family  # the supervisor, its worker (and multiprocessing's tracker)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    deadline = time.monotonic() + 10
    for member in family:
        while time.monotonic() < deadline:
            try:
                if member.status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.01)
        else:
            raise AssertionError(f"worker process {member.pid} survived SIGKILL")


async def _until(
    check: Callable[[], Any],
    timeout: float,
    why: str,
    trouble: Callable[[], str | None] = lambda: None,
    detail: Callable[[], str] = lambda: "",
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        problem = trouble()
        if problem:
            raise AssertionError(problem)
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {why}\n{detail()}")
        await asyncio.sleep(0.005)


def _sending() -> int:
    return int(OutboundMessage.select().where(OutboundMessage.state == "sending").count())


def _pending() -> dict[str, int]:
    """Rows not final yet, by state."""
    query = (
        OutboundMessage.select(OutboundMessage.state, peewee.fn.COUNT(OutboundMessage.id))
        .where(OutboundMessage.state.in_(("queued", "dispatched", "sending", "held")))
        .group_by(OutboundMessage.state)
        .tuples()
    )
    return {state: int(n) for state, n in query}


def _ledger(broadcast_id: int) -> list[tuple[str, str, str | None]]:
    """(phone, state, wamid) of every row of the broadcast."""
    query = (
        OutboundMessage.select(OutboundMessage.state, OutboundMessage.wamid, Contact.phone)
        .join(Contact)
        .where(OutboundMessage.broadcast == broadcast_id)
    )
    return [(m.contact.phone, m.state, m.wamid) for m in query]


@asynccontextmanager
async def _standing_in(link: BrokerLink) -> AsyncIterator[None]:
    """Beat a worker heartbeat while the replacement starts: the scheduler keeps queueing in
    Redis (as it would on a quick restart, the dead worker's last beat being fresh) instead of
    sending in its own process, which would make it a sender the kills never hit."""

    async def beat() -> None:
        while True:
            await asyncio.to_thread(link.beat, STAND_IN)
            await asyncio.sleep(2)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        await asyncio.to_thread(link.leave, STAND_IN)


def _requeue_messages_of_dead_workers(redis_url: str, killed: datetime) -> None:
    """Dramatiq's recovery: messages a worker fetched and never acknowledged go back to the
    queue once its heartbeat is older than the timeout (Herald's is 30 s) and maintenance runs
    (by chance, on any command). Here maintenance runs at once, with the timeout reaching back
    to the kill, so only workers silent since then count as dead."""
    since = datetime.now(UTC) - killed
    broker = RedisBroker(
        url=redis_url,
        namespace=NAMESPACE,
        heartbeat_timeout=max(1, int(since.total_seconds() * 1000)),
        maintenance_chance=MAINTENANCE_SCALE,
    )
    try:
        for queue in (SEND_QUEUE, f"{SEND_QUEUE}.DQ", STEP_QUEUE, f"{STEP_QUEUE}.DQ"):
            broker.do_qsize(queue)
    finally:
        broker.close()


class _Rig:
    """One run: a seeded generator, the fake Cloud API, Herald in this process (the webhook
    receiver, the REST API), the scheduler and workers as real processes, and Meta's echoes."""

    def __init__(self, cloud: FakeCloudApi, herald: Herald, redis_url: str, logs: Path) -> None:
        seed = int(os.environ.get("HERALD_KILL_SEED") or random.randrange(2**32))
        print(f"\nworker kill seed: {seed} (HERALD_KILL_SEED={seed} replays it)")
        self.rng = random.Random(seed)
        self.began = time.monotonic()
        self.cloud = cloud
        self.herald = herald
        self.redis_url = redis_url
        self.logs = logs
        self.link = BrokerLink(redis_url, NAMESPACE)
        self.processes = _Processes(process_env(herald.settings), logs)
        self.kills: list[_Kill] = []
        self.state: Callable[[], object] = _pending  # what a failure message shows of the database
        self.api: Api
        self.meta: _Meta
        self.scheduler: subprocess.Popen[bytes]
        self.worker: subprocess.Popen[bytes]

    def start(self) -> None:
        """The scheduler and the first worker."""
        self.worker = self.processes.worker()
        self.scheduler = self.processes.start("scheduler", "scheduler")

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.began:.1f} s"

    def trouble(self) -> str | None:
        for name, p in (("scheduler", self.scheduler), ("worker", self.worker)):
            if p.poll() is not None:
                return f"the {name} exited with {p.returncode}\n{self.processes.tails()}"
        return None

    def detail(self) -> str:
        state = self.herald.in_db(self.state)
        return f"sent {len(self.cloud.accepted)}, database {state}\n{self.processes.tails()}"

    async def until(self, check: Callable[[], Any], timeout: float, why: str) -> None:
        await _until(check, timeout, why, self.trouble, self.detail)

    async def kill_and_replace(self, resumed: int, limit: int | None = None) -> _Kill:
        """SIGKILL the worker, start a new one at once and wait for ``resumed`` more sends (at
        most ``limit`` in all); then what time brings: the dead worker's queue messages back,
        Meta's echoes applied, and the watchdog as at the end of the reconciliation wait."""
        async with _standing_in(self.link):
            await asyncio.to_thread(_kill_group, self.worker)
            killed = datetime.now(UTC)
            sends = len(self.cloud.accepted)
            sending = await asyncio.to_thread(self.herald.in_db, _sending)
            self.worker = self.processes.worker()  # a new one at once, as a supervisor would start
            await asyncio.to_thread(_requeue_messages_of_dead_workers, self.redis_url, killed)
            target = sends + resumed if limit is None else min(sends + resumed, limit)
            await self.until(lambda: len(self.cloud.accepted) >= target, 60, "the new worker")
        async with self.meta.caught_up():
            report = await _watchdog_after_the_wait(self.herald, killed)
        resent = report.requeued_unconfirmed
        self.kills.append(_Kill(sends, sending, sending - resent, resent))
        return self.kills[-1]

    @asynccontextmanager
    async def echoing(self) -> AsyncIterator[None]:
        """Meta echoing every send while the block runs; all echoes applied at its end."""
        task = asyncio.create_task(self.meta.run())
        try:
            yield
            await asyncio.sleep(0.5)  # what is still queued in Redis finds nothing to do
            self.processes.stop()  # gracefully: work in hand finishes
            async with self.meta.caught_up():
                pass
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    def close(self) -> None:
        self.processes.stop()
        self.link.close()
        self.herald.close()
        if hasattr(self.herald.database, "close_all"):
            self.herald.database.close_all()

    def scheduler_sent_nothing(self) -> bool:
        return "dispatch mode is now direct" not in (self.logs / "scheduler.log").read_text()


@asynccontextmanager
async def _rig(
    database_url: str, private_redis: PrivateRedis, aiohttp_client: Any, tmp_path: Path
) -> AsyncIterator[_Rig]:
    logs = tmp_path / "logs"
    logs.mkdir()
    async with FakeCloudApi() as cloud:
        settings = live_settings(
            database_url,
            cloud,
            redis_url=private_redis.url,
            queue_namespace=NAMESPACE,
            whatsapp_mps=2000,
            worker_threads=4,
        )
        rig = _Rig(cloud, build(settings, direct_only=True), private_redis.url, logs)
        try:
            client = await aiohttp_client(create_app(rig.herald))
            rig.api = Api(client)
            rig.meta = _Meta(rig.herald, cloud, str(client.make_url("/webhooks/whatsapp")))
            await sync_templates(rig.herald)
            yield rig
        finally:
            rig.close()


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_a_worker_killed_five_times_mid_broadcast_sends_each_recipient_exactly_once(
    database_url: str, private_redis: PrivateRedis, aiohttp_client: Any, tmp_path: Path
) -> None:
    async with _rig(database_url, private_redis, aiohttp_client, tmp_path) as rig:
        herald, cloud, api = rig.herald, rig.cloud, rig.api
        # the scheduler decides between Redis and direct processing at its first dispatch:
        # by then (the broadcast starts below) the first worker listens
        rig.start()
        numbers = phones(RECIPIENTS)
        await asyncio.to_thread(seed_contacts, herald, [(p, ["vip"]) for p in numbers])
        await _until(rig.link.workers_alive, 60, "the first worker to listen")
        status, b = await api.post(
            "/api/broadcasts", {"template": "promo_autumn", "tags": ["vip"], "schedule": "now"}
        )
        assert status == 201, b
        print(f"set-up: {rig.elapsed()}")
        async with rig.echoing():
            edges = [RECIPIENTS * i // (KILLS + 1) for i in range(KILLS + 1)]
            for k in range(KILLS):
                target = max(rig.rng.randint(edges[k], edges[k + 1]), len(cloud.accepted) + 100)
                await rig.until(lambda t=target: len(cloud.accepted) >= t, 60, f"{target} sends")
                kill = await rig.kill_and_replace(resumed=200)
                print(f"kill {k + 1} at {rig.elapsed()}: {kill}")

            def finished() -> bool:
                return bool(herald.in_db(lambda: Broadcast.get_by_id(b["id"]).status == "completed"))

            def stuck() -> str | None:
                if time.monotonic() - cloud.requests[-1].at < 30:
                    return rig.trouble()
                pending = herald.in_db(_pending)
                return f"nothing sent for 30 s with rows pending: {pending}\n{rig.processes.tails()}"

            await _until(finished, 120, "the broadcast to complete", stuck, rig.detail)
        print(f"{RECIPIENTS} recipients, {KILLS} kills: {rig.elapsed()}")

        # the fake's log: exactly one send to each recipient, and nothing else
        sent_to: dict[str, list[str]] = {}
        for message in cloud.accepted:
            assert message.template == "promo_autumn", message
            sent_to.setdefault(message.to, []).append(message.wamid)
        doubled = {p: w for p, w in sent_to.items() if len(w) > 1}
        missing = sorted(set(numbers) - set(sent_to))
        assert not doubled, f"{len(doubled)} recipients sent twice, e.g. {list(doubled.items())[:5]}"
        assert not missing, f"{len(missing)} recipients never sent, e.g. {missing[:5]}"
        assert len(cloud.sends()) == len(sent_to) == RECIPIENTS

        # the ledger: every row sent, with the wamid of that one send
        rows = await asyncio.to_thread(herald.in_db, _ledger, b["id"])
        assert len(rows) == RECIPIENTS
        states: dict[str, int] = {}
        for phone, state, wamid in rows:
            states[state] = states.get(state, 0) + 1
            assert wamid == sent_to[phone][0], (phone, state, wamid, sent_to[phone])
        assert states == {"sent": RECIPIENTS}
        status, got = await api.get(f"/api/broadcasts/{b['id']}")
        assert status == 200, got
        assert (got["status"], got["audience_total"]) == ("completed", RECIPIENTS)
        funnel = got["funnel"]
        assert (funnel["total"], funnel["sent"], funnel["failed"], funnel["pending"]) == (
            RECIPIENTS,
            RECIPIENTS,
            0,
            0,
        )
        assert funnel["skipped"] == {}
        assert funnel["sent"] + funnel["failed"] + sum(funnel["skipped"].values()) == funnel["total"]
        assert await asyncio.to_thread(ledger_orphans, herald) == []

    # the kills hit sends in flight: rows WhatsApp had accepted and the dead worker
    # never recorded, which only their echo kept from a second send
    assert sum(k.echoed for k in rig.kills) > 0, rig.kills
    assert rig.scheduler_sent_nothing()  # workers sent all


ENROLLED = 2_500
DRIP = {
    "name": "drip",
    "trigger": {"type": "tag_added", "tag": "drip"},
    "steps": [
        {"id": "welcome", "type": "message", "template": "welcome_offer", "language": "en"},
        {"id": "wait", "type": "delay", "days": 1},
        {"id": "thanks", "type": "message", "template": "thank_you"},
    ],
}


def _enrollments() -> dict[tuple[str, str | None], int]:
    """Enrollments by (status, current step)."""
    query = (
        Enrollment.select(Enrollment.status, Enrollment.current_step, peewee.fn.COUNT(Enrollment.id))
        .group_by(Enrollment.status, Enrollment.current_step)
        .tuples()
    )
    return {(status, step): int(n) for status, step, n in query}


def _rows() -> int:
    return int(OutboundMessage.select().count())


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_a_worker_killed_twice_mid_sequence_sends_each_step_exactly_once(
    database_url: str, private_redis: PrivateRedis, aiohttp_client: Any, tmp_path: Path
) -> None:
    """2,500 contacts enter a drip sequence (a message, a day's wait, a message) at once; the
    worker is SIGKILLed while it runs their step jobs (some have queued their message, others
    not yet) and again mid-way through the sends, with the same recovery as above. Then the
    day passes: the enrollments' timers run out on a clock moved a day ahead, and the worker
    sends the second message. Each contact gets each step's template once, and every
    enrollment completes."""
    later: Herald | None = None
    async with _rig(database_url, private_redis, aiohttp_client, tmp_path) as rig:
        herald, cloud, api = rig.herald, rig.cloud, rig.api
        rig.state = lambda: (_pending(), _enrollments())
        try:
            status, seq = await api.post("/api/sequences", DRIP)
            assert status == 201, seq
            status, body = await api.post(f"/api/sequences/{seq['id']}/activate")
            assert status == 200, body
            rig.start()
            numbers = phones(ENROLLED)
            await _until(rig.link.workers_alive, 60, "the first worker to listen")
            # tagging them all at once enrolls them all at once: the scheduler claims them in one tick
            await asyncio.to_thread(seed_contacts, herald, [(p, ["drip"]) for p in numbers])
            print(f"set-up: {rig.elapsed()}")
            async with rig.echoing():
                # the first kill as the step jobs queue the welcome messages, the second mid-sends
                targets = [
                    (_rows, rig.rng.randint(1, ENROLLED // 4), "welcome rows queued"),
                    (lambda: len(cloud.accepted), rig.rng.randint(ENROLLED // 3, 2 * ENROLLED // 3), "sends"),
                ]
                for k, (count, target, what) in enumerate(targets):
                    await rig.until(lambda c=count, t=target: herald.in_db(c) >= t, 60, f"{target} {what}")
                    at_kill = await asyncio.to_thread(herald.in_db, lambda: (_rows(), _enrollments()))
                    kill = await rig.kill_and_replace(resumed=100, limit=ENROLLED)
                    print(
                        f"kill {k + 1} at {rig.elapsed()}: {kill}; ledger rows, enrollments then: {at_kill}"
                    )

                def waiting() -> bool:
                    return bool(herald.in_db(_enrollments) == {("active", "wait"): ENROLLED})

                await rig.until(waiting, 60, "every enrollment to wait for its day")
                print(f"first step done: {rig.elapsed()}")

                # a day later: the timers run out on a clock moved past the delay. The worker
                # (on the wall clock) sends the second message and completes each enrollment.
                later = build(
                    herald.settings,
                    clock=_Ahead(timedelta(days=1, minutes=1)),
                    direct_only=True,
                    run_migrations=False,
                )
                while True:
                    ran = await asyncio.to_thread(later.in_db, later.runner.tick)
                    await asyncio.to_thread(later.dispatcher.drain)
                    if ran.claimed == 0:
                        break

                def completed() -> bool:
                    return bool(herald.in_db(_enrollments) == {("completed", None): ENROLLED})

                await rig.until(completed, 60, "every enrollment to complete")
            print(f"{ENROLLED} enrollments, {len(rig.kills)} kills: {rig.elapsed()}")

            # the fake's log: each contact got the welcome, then the thanks, once each
            sent_to: dict[str, list[str]] = {}
            for message in cloud.accepted:
                sent_to.setdefault(message.to, []).append(message.template or message.type)
            wrong = {p: t for p, t in sent_to.items() if t != ["welcome_offer", "thank_you"]}
            assert not wrong, f"{len(wrong)} contacts sent otherwise, e.g. {list(wrong.items())[:5]}"
            assert sorted(sent_to) == numbers
            assert len(cloud.sends()) == 2 * ENROLLED

            # the ledger: one sent row per contact and step
            states = await asyncio.to_thread(herald.in_db, _pending)
            assert states == {}
            rows = await asyncio.to_thread(
                herald.in_db,
                lambda: list(
                    OutboundMessage.select(OutboundMessage.step_id, OutboundMessage.state, peewee.fn.COUNT(1))
                    .group_by(OutboundMessage.step_id, OutboundMessage.state)
                    .tuples()
                ),
            )
            assert sorted(rows) == [("thanks", "sent", ENROLLED), ("welcome", "sent", ENROLLED)]
            assert await asyncio.to_thread(ledger_orphans, herald) == []
            status, view = await api.get(f"/api/sequences/{seq['id']}")
            assert status == 200, view
            assert view["enrollments"] == {
                "enrolled": ENROLLED,
                "active": 0,
                "completed": ENROLLED,
                "exited": {},
            }
        finally:
            if later is not None:
                later.close()
                if hasattr(later.database, "close_all"):
                    later.database.close_all()
    assert rig.scheduler_sent_nothing()


HELD_RECIPIENTS = 3_000
TIER = ("TIER_2K", 2_000)  # Meta's messaging limit for the first part of the run


@pytest.mark.slow
@pytest.mark.timeout(240)
async def test_a_worker_killed_while_rows_are_held_loses_and_doubles_nothing(
    database_url: str, private_redis: PrivateRedis, aiohttp_client: Any, tmp_path: Path
) -> None:
    """3,000 recipients under Meta's 2,000-a-day messaging limit (read from the fake's Graph
    answer): the worker is SIGKILLed mid-sends, then again while the other 1,000 rows are
    held, waiting for room; then Meta raises the limit (a signed ``business_capability_update``)
    and the scheduler lets the held rows go, and the worker is killed once more mid-way
    through them. Each recipient is sent exactly once, none is lost, every row is sent."""
    async with _rig(database_url, private_redis, aiohttp_client, tmp_path) as rig:
        herald, cloud, api = rig.herald, rig.cloud, rig.api
        cloud.messaging_limit = TIER[0]
        await sync_templates(herald)  # reads the limit, as the scheduler's first pass does
        assert herald.in_db(herald.limits.current).value == TIER[1]
        rig.start()
        numbers = phones(HELD_RECIPIENTS)
        await asyncio.to_thread(seed_contacts, herald, [(p, ["vip"]) for p in numbers])
        await _until(rig.link.workers_alive, 60, "the first worker to listen")
        status, b = await api.post(
            "/api/broadcasts", {"template": "promo_autumn", "tags": ["vip"], "schedule": "now"}
        )
        assert status == 201, b
        held = HELD_RECIPIENTS - TIER[1]
        async with rig.echoing():
            target = rig.rng.randint(300, 1500)
            await rig.until(lambda: len(cloud.accepted) >= target, 60, f"{target} sends")
            print(f"kill 1 at {rig.elapsed()}: {await rig.kill_and_replace(resumed=100, limit=TIER[1])}")

            def only_held() -> bool:
                return bool(herald.in_db(_pending) == {"held": held})

            await rig.until(only_held, 60, f"{held} rows held and nothing else pending")
            assert len(cloud.accepted) == TIER[1]  # exactly the limit, none into Meta's refusals
            print(f"kill 2 at {rig.elapsed()}: {await rig.kill_and_replace(resumed=0)}")
            assert herald.in_db(_pending) == {"held": held}

            raised = webhook(
                "business_capability_update",
                {"max_daily_conversations_per_business": 10_000},
                business_account_id=cloud.business_account_id,
                time=datetime.now(UTC),
            )
            assert await cloud.webhooks.post_webhook(rig.meta.url, orjson.dumps(raised)) == 200
            target = TIER[1] + rig.rng.randint(100, held // 2)
            await rig.until(lambda: len(cloud.accepted) >= target, 60, f"{target} sends")
            print(
                f"kill 3 at {rig.elapsed()}: {await rig.kill_and_replace(resumed=50, limit=HELD_RECIPIENTS)}"
            )

            def finished() -> bool:
                return bool(herald.in_db(lambda: Broadcast.get_by_id(b["id"]).status == "completed"))

            await rig.until(finished, 90, "the broadcast to complete")

        sent_to: dict[str, int] = {}
        for message in cloud.accepted:
            sent_to[message.to] = sent_to.get(message.to, 0) + 1
        doubled = {p: n for p, n in sent_to.items() if n > 1}
        assert not doubled, f"{len(doubled)} recipients sent twice, e.g. {list(doubled.items())[:5]}"
        assert sorted(sent_to) == numbers  # none lost
        assert len(cloud.sends()) == HELD_RECIPIENTS
        status, got = await api.get(f"/api/broadcasts/{b['id']}")
        assert status == 200, got
        funnel = got["funnel"]
        assert (funnel["sent"], funnel["failed"], funnel["pending"], funnel["held"]) == (
            HELD_RECIPIENTS,
            0,
            0,
            {},
        )
        assert await asyncio.to_thread(ledger_orphans, herald) == []
