"""PostgreSQL restarted in the middle of a broadcast: connections come back and nobody is lost or doubled.

The test runs its own PostgreSQL cluster on a free port (never the machine's
shared one), starts a 1,500-recipient broadcast at 300 msg/s, restarts the
cluster while batches are in flight, and keeps ticking like a scheduler
would. Sends that WhatsApp accepted while Herald could not record them are
reconciled through their status echo (as Meta sends it); the rest are sent
after the watchdog's waits. The fake Cloud API's log must show exactly one
send per recipient, and the funnel must never have moved backward.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from bot.container import build
from bot.web.app import create_app
from storage.models import OutboundMessage
from tests.conftest import Api
from tests.fakes.cloud_api import FakeCloudApi
from tests.fakes.notifier import RecordingNotifier
from tests.helpers import phones, seed_contacts
from tests.live import Live, live_settings
from tests.services import PrivatePostgres

RECIPIENTS = 1500


async def _tick_safely(world: Live) -> None:
    """One tick; while the database is down a tick fails, as it would in the scheduler."""
    try:
        await world.tick()
    except Exception:
        await asyncio.sleep(0.2)


async def test_postgres_restart_mid_broadcast_loses_and_doubles_nobody(
    private_postgres: PrivatePostgres, clock: Any, cloud: FakeCloudApi, aiohttp_client: Any
) -> None:
    herald = build(
        live_settings(private_postgres.url, cloud, whatsapp_mps=300), clock=clock, direct_only=True
    )
    notes = RecordingNotifier()
    herald.notifier.add(notes)
    client = await aiohttp_client(create_app(herald))
    world = Live(herald, cloud, client, Api(client), notes, clock)
    try:
        await world.sync_templates()
        numbers = phones(RECIPIENTS)
        seed_contacts(herald, [(p, ["vip"]) for p in numbers])
        status, b = await world.api.post(
            "/api/broadcasts", {"template": "thank_you", "tags": ["vip"], "schedule": "now"}
        )
        assert status == 201

        seen: list[dict[str, int]] = []
        ticking = asyncio.create_task(world.tick())
        await world.eventually(lambda: len(cloud.sends()) >= 300, timeout=30)
        private_postgres.restart()  # every pooled connection dies here
        before_restart = len(cloud.sends())
        await ticking  # the batches in flight finish; their records fail with the connections
        unrecorded = await asyncio.to_thread(
            herald.in_db, lambda: OutboundMessage.select().where(OutboundMessage.state == "sending").count()
        )
        assert unrecorded > 0  # the restart really hit sends in flight
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            await _tick_safely(world)
            status, got = await world.api.get(f"/api/broadcasts/{b['id']}")
            if status == 200:
                seen.append(got["funnel"])
                if got["funnel"]["pending"] == 0 and got["status"] == "completed":
                    break
            # Meta echoes every accepted message; unanswered rows wait for that echo
            await cloud.webhooks.deliver_statuses(world.webhook_url, until="sent", per_body=100)
            clock.advance(minutes=6)  # past the dispatch lease; not past the reconciliation wait
        assert len(cloud.sends()) > before_restart  # sending went on after the restart

        assert world.sends_to() == dict.fromkeys(numbers, 1)
        final = seen[-1]
        assert (final["sent"], final["pending"], final["failed"]) == (RECIPIENTS, 0, 0)
        for earlier, later in itertools.pairwise(seen):
            for key in ("sent", "delivered", "read", "failed"):
                assert later[key] >= earlier[key], (key, earlier, later)
    finally:
        await asyncio.to_thread(herald.dispatcher.drain)
        herald.close()
        herald.database.close_all()  # type: ignore[attr-defined]
