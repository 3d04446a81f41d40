"""A Herald wired to the fake Cloud API, running behind a real socket: the delivery scenarios' world."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.container import Herald, build
from bot.web.app import create_app
from engine.actor import SYSTEM
from engine.clock import ManualClock
from engine.template_sync import SyncReport
from engine.tick import TickReport
from storage import inbox
from tests.conftest import Api, make_settings, serve
from tests.fakes.cloud_api import (
    API_VERSION,
    APP_SECRET,
    BUSINESS_ACCOUNT_ID,
    PHONE_NUMBER_ID,
    TOKEN,
    FakeCloudApi,
)
from tests.fakes.notifier import RecordingNotifier


async def sync_templates(herald: Herald) -> SyncReport:
    """The templates of the fake Cloud API (or the sandbox) into the registry, as the API's sync does."""
    return await herald.db(herald.template_sync.run, by=SYSTEM)


def live_settings(database_url: str, cloud: FakeCloudApi, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "whatsapp_token": TOKEN,
        "whatsapp_api_url": cloud.url,
        "whatsapp_api_version": API_VERSION,
        "whatsapp_phone_number_id": PHONE_NUMBER_ID,
        "whatsapp_business_account_id": BUSINESS_ACCOUNT_ID,
        "whatsapp_app_secret": APP_SECRET,
        "whatsapp_verify_token": "verify-me",
        "whatsapp_mps": 1000,
    }
    values.update(overrides)
    return make_settings(database_url, **values)


def process_env(settings: Any, **extra: str) -> dict[str, str]:
    """The environment of a ``python -m bot`` process sharing ``settings`` (database, Redis,
    queue namespace, the fake Cloud API), without this process's own Herald variables."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WHATSAPP_", "SLACK_", "DATABASE_", "REDIS_"))
    }
    env.update(
        {
            "DATABASE_URL": settings.database_url,
            "REDIS_URL": settings.redis_url,
            "QUEUE_NAMESPACE": settings.queue_namespace,
            "WHATSAPP_TOKEN": settings.whatsapp_token.get_secret_value(),
            "WHATSAPP_API_URL": settings.whatsapp_api_url,
            "WHATSAPP_API_VERSION": settings.whatsapp_api_version,
            "WHATSAPP_PHONE_NUMBER_ID": settings.whatsapp_phone_number_id,
            "WHATSAPP_BUSINESS_ACCOUNT_ID": settings.whatsapp_business_account_id,
            "WHATSAPP_MPS": str(settings.whatsapp_mps),
            "WORKER_THREADS": str(settings.worker_threads),
            "LOG_LEVEL": "WARNING",
        }
    )
    env.update(extra)
    return env


@dataclass
class Live:
    herald: Herald
    cloud: FakeCloudApi
    client: TestClient
    api: Api
    notes: RecordingNotifier
    clock: ManualClock

    @property
    def webhook_url(self) -> str:
        return str(self.client.make_url("/webhooks/whatsapp"))

    async def sync_templates(self) -> SyncReport:
        return await sync_templates(self.herald)

    async def tick(self) -> TickReport:
        report: TickReport = await asyncio.to_thread(self.herald.in_db, self.herald.tick.run)
        await asyncio.to_thread(self.herald.dispatcher.drain)
        return report

    async def settle(self, rounds: int = 40) -> None:
        """Tick until a pass finds nothing to do (no sends, no sequence steps, no statuses)."""
        for _ in range(rounds):
            report = await self.tick()
            steps = report.extra.get("sequences")
            idle = not (report.dispatched or report.statuses or report.started or (steps and steps.claimed))
            if idle and not self.herald.dispatcher.busy:
                return
        raise AssertionError("the tick never settled")

    async def webhooks_applied(self) -> None:
        """The receiver applies what it stores on its own thread: wait until the inbox is empty
        (its transaction committed), then tick until idle."""
        await self.eventually(lambda: inbox.backlog(self.herald.database) == 0)
        await self.settle()

    async def eventually(self, check: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Poll ``check`` (run on a database thread) until it returns something truthy."""
        deadline = time.monotonic() + timeout
        while True:
            value = await asyncio.to_thread(self.herald.in_db, check)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"not true within {timeout} s: {check}")
            await asyncio.sleep(0.02)

    async def funnel(self, broadcast_id: int) -> dict[str, Any]:
        status, body = await self.api.get(f"/api/broadcasts/{broadcast_id}")
        assert status == 200, body
        return body["funnel"]

    def sends_to(self) -> dict[str, int]:
        """How many sends the fake accepted per phone (the exactly-once evidence)."""
        counts: dict[str, int] = {}
        for message in self.cloud.accepted:
            if message.type == "template":
                counts[message.to] = counts.get(message.to, 0) + 1
        return counts


@pytest.fixture
async def cloud(clock: ManualClock) -> AsyncIterator[FakeCloudApi]:
    async with FakeCloudApi(now=clock.now) as fake:  # status times follow the injected clock
        yield fake


@pytest.fixture
def live_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
async def live(
    database_url: str,
    clock: ManualClock,
    cloud: FakeCloudApi,
    aiohttp_client: Any,
    live_overrides: dict[str, Any],
) -> AsyncIterator[Live]:
    herald = build(live_settings(database_url, cloud, **live_overrides), clock=clock, direct_only=True)
    notes = RecordingNotifier()
    herald.notifier.add(notes)
    client = await serve(aiohttp_client, create_app(herald), herald.settings)
    world = Live(herald, cloud, client, Api(client), notes, clock)
    await world.sync_templates()
    yield world
    await asyncio.to_thread(herald.dispatcher.drain)
    herald.close()
    if hasattr(herald.database, "close_all"):
        herald.database.close_all()
