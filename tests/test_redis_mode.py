"""Sending through Dramatiq on real Redis, and falling back to direct processing when Redis goes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import dramatiq
import pytest

from bot.container import Herald, build
from bot.web.app import create_app
from engine.broker import SEND_QUEUE, STEP_QUEUE
from engine.dispatch import DIRECT, REDIS
from storage.models import Enrollment
from tests.conftest import Api
from tests.fakes.cloud_api import FakeCloudApi
from tests.fakes.notifier import RecordingNotifier
from tests.helpers import phones, seed_contacts
from tests.live import Live, live_settings
from tests.services import PrivateRedis
from tests.test_sequences import onboarding_takes_both_branches


@contextmanager
def worker(herald: Herald, name: str = "test-worker") -> Iterator[dramatiq.Worker]:
    """A Dramatiq worker in this process, on the Herald's broker, beating its heartbeat."""
    assert herald.link is not None
    w = dramatiq.Worker(
        herald.link.broker, queues={SEND_QUEUE, STEP_QUEUE}, worker_threads=4, worker_timeout=100
    )
    w.start()
    herald.link.beat(name)
    try:
        yield w
    finally:
        herald.link.leave(name)
        w.stop(timeout=10_000)


def _join(herald: Herald, w: dramatiq.Worker) -> None:
    """Wait until the worker has run everything queued in Redis."""
    assert herald.link is not None
    for _ in range(2):  # a step job may queue nothing, a send may wake nothing: twice is plenty
        for queue in (STEP_QUEUE, SEND_QUEUE):
            herald.link.broker.join(queue, interval=10, timeout=30_000)
        w.join()


async def _world(
    database_url: str, clock: Any, cloud: FakeCloudApi, aiohttp_client: Any, redis_url: str
) -> Live:
    settings = live_settings(
        database_url, cloud, redis_url=redis_url, queue_namespace=f"t{uuid.uuid4().hex[:10]}"
    )
    herald = build(settings, clock=clock)
    herald.dispatcher.recheck = 0.0
    notes = RecordingNotifier()
    herald.notifier.add(notes)
    client = await aiohttp_client(create_app(herald))
    world = Live(herald, cloud, client, Api(client), notes, clock)
    await world.sync_templates()
    return world


@pytest.fixture
async def shared_redis_world(
    database_url: str, clock: Any, cloud: FakeCloudApi, aiohttp_client: Any
) -> AsyncIterator[Live]:
    world = await _world(database_url, clock, cloud, aiohttp_client, "redis://127.0.0.1:6379/15")
    yield world
    world.herald.close()


async def _wait_sent(world: Live, broadcast_id: int, total: int, rounds: int = 200) -> None:
    for _ in range(rounds):
        await world.tick()
        funnel = await world.funnel(broadcast_id)
        if funnel["pending"] == 0 and funnel["total"] == total:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"broadcast {broadcast_id} never finished: {await world.funnel(broadcast_id)}")


async def test_batches_go_through_redis_to_a_worker(shared_redis_world: Live) -> None:
    world = shared_redis_world
    numbers = phones(250)
    seed_contacts(world.herald, [(p, ["vip"]) for p in numbers])
    with worker(world.herald):
        assert world.herald.dispatcher.mode == REDIS
        status, b = await world.api.post(
            "/api/broadcasts", {"template": "thank_you", "tags": ["vip"], "schedule": "now"}
        )
        assert status == 201
        report = await world.tick()
        assert report.batches == 3
        assert world.herald.dispatcher.busy == 0  # nothing ran here: the worker did it
        await _wait_sent(world, b["id"], 250)
    assert world.sends_to() == dict.fromkeys(numbers, 1)


async def test_with_no_worker_listening_work_runs_in_process(shared_redis_world: Live) -> None:
    world = shared_redis_world
    seed_contacts(world.herald, [(p, ["vip"]) for p in phones(20)])
    assert world.herald.dispatcher.mode == DIRECT
    _, b = await world.api.post(
        "/api/broadcasts", {"template": "thank_you", "tags": ["vip"], "schedule": "now"}
    )
    await world.settle()
    assert (await world.funnel(b["id"]))["sent"] == 20


async def test_redis_stopped_mid_broadcast_falls_back_to_direct_and_back_without_loss_or_duplicates(
    database_url: str,
    clock: Any,
    cloud: FakeCloudApi,
    aiohttp_client: Any,
    private_redis: PrivateRedis,
) -> None:
    world = await _world(database_url, clock, cloud, aiohttp_client, private_redis.url)
    try:
        numbers = phones(600)
        seed_contacts(world.herald, [(p, ["vip"]) for p in numbers])
        world.herald.sender.limiter.rate = 400.0
        with worker(world.herald):
            _, b = await world.api.post(
                "/api/broadcasts", {"template": "thank_you", "tags": ["vip"], "schedule": "now"}
            )
            await world.tick()
            await world.eventually(lambda: len(cloud.sends()) >= 50)
            private_redis.stop()  # mid-broadcast
            assert world.herald.dispatcher.mode == DIRECT
            for _ in range(5):
                await world.settle()
                clock.advance(minutes=6)  # past the dispatch lease: lost queue messages come back
            private_redis.start()
            world.herald.link.beat("test-worker")  # type: ignore[union-attr]
            assert world.herald.dispatcher.mode == REDIS
            await _wait_sent(world, b["id"], 600)
        assert world.sends_to() == dict.fromkeys(numbers, 1)
    finally:
        world.herald.close()


async def test_a_sequence_runs_its_steps_through_redis(shared_redis_world: Live) -> None:
    world = shared_redis_world
    definition = {
        "name": "twostep",
        "trigger": {"type": "contact_created"},
        "steps": [
            {"id": "hello", "type": "message", "template": "thank_you"},
            {"id": "wait", "type": "delay", "hours": 2},
            {"id": "bye", "type": "message", "template": "login_code", "params": ["123456", "123456"]},
        ],
    }
    status, seq = await world.api.post("/api/sequences", definition)
    assert status == 201, seq
    await world.api.post(f"/api/sequences/{seq['id']}/activate")
    numbers = phones(30)
    with worker(world.herald):
        assert world.herald.dispatcher.mode == REDIS
        for number in numbers:
            await world.api.post("/api/contacts", {"phone": number, "name": "Asha Rao"})
        for _ in range(200):
            await world.tick()
            waiting = await asyncio.to_thread(
                world.herald.in_db,
                lambda: Enrollment.select().where(Enrollment.current_step == "wait").count(),
            )
            if waiting == 30:
                break
            await asyncio.sleep(0.05)
        assert len(world.cloud.accepted) == 30
        world.clock.advance(hours=2, minutes=1)
        for _ in range(100):
            await world.tick()
            if len(world.cloud.accepted) >= 60:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
    counts: dict[str, list[str]] = {}
    for message in world.cloud.accepted:
        counts.setdefault(message.to, []).append(message.template or "")
    assert counts == {n: ["thank_you", "login_code"] for n in numbers}


async def test_a_seven_day_sequence_takes_both_branches_through_redis(shared_redis_world: Live) -> None:
    """The direct-mode ONBOARDING scenario (both branches, seven days on a moved clock), every
    step job and send run by a Dramatiq worker on real Redis."""
    world = shared_redis_world
    with worker(world.herald) as w:
        assert world.herald.dispatcher.mode == REDIS

        async def settle() -> None:
            """Tick, then wait for the worker to empty its queues, until a tick finds nothing."""
            for _ in range(40):
                report = await world.tick()
                assert world.herald.dispatcher.mode == REDIS
                assert world.herald.dispatcher.busy == 0  # nothing ran here: the worker did it
                await asyncio.to_thread(_join, world.herald, w)
                steps = report.extra.get("sequences")
                if not (report.dispatched or report.statuses or report.started or (steps and steps.claimed)):
                    return
            raise AssertionError("the tick never settled")

        await onboarding_takes_both_branches(world, settle)
