"""Slack's 3 seconds hold while a 100,000-recipient broadcast is sending in the same process."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from engine.clock import ManualClock
from storage import contacts as contact_store
from storage.fields import to_db_time
from storage.models import OutboundMessage
from storage.sql import execute
from tests.fakes.cloud_api import FakeCloudApi
from tests.helpers import phones
from tests.slack.conftest import SlackWorld

RECIPIENTS = 100_000
ACK_BUDGET = 1.5  # seconds: half of Slack's 3, with room for a busy test machine
IN_FLIGHT = 5_000  # rows the tick keeps dispatched: about five seconds of sending at 1,000/s


@pytest.fixture
def cloud(clock: ManualClock) -> Iterator[FakeCloudApi]:
    """The fake Cloud API on a loop of its own, as the real one is on other machines: the acks
    measured are Herald's, not the fake's 1,000 requests a second on the app's loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-cloud-api", daemon=True)
    thread.start()
    fake = FakeCloudApi(now=clock.now)
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(10)
    yield fake
    asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def _seed(slack: SlackWorld) -> None:
    """100,000 contacts tagged vip, in a few set-based statements (the import path is tested elsewhere)."""
    herald = slack.live.herald
    now = slack.live.clock.now()

    def write() -> None:
        with herald.database.atomic():
            rows = [(p, f"Person {i}", True, {}, None, None) for i, p in enumerate(phones(RECIPIENTS))]
            contact_store.insert_contacts(herald.database, rows, now)
            tag = contact_store.ensure_tags(herald.database, ["vip"], now)["vip"]
            execute(
                herald.database,
                "INSERT INTO contact_tag (contact_id, tag_id, created_at) SELECT id, ?, ? FROM contact",
                [tag, to_db_time(now)],
            )

    herald.in_db(write)


def _accepted() -> int:
    return OutboundMessage.select().where(OutboundMessage.wamid.is_null(False)).count()


@pytest.mark.slow
async def test_slash_commands_are_acked_fast_while_a_big_broadcast_sends(slack: SlackWorld) -> None:
    live = slack.live
    _seed(slack)
    status, b = await live.api.post(
        "/api/broadcasts", {"template": "thank_you", "tags": ["vip"], "schedule": "now"}
    )
    assert status == 201
    assert b["audience_total"] == RECIPIENTS
    live.herald.tick.window = IN_FLIGHT
    await asyncio.to_thread(live.herald.in_db, live.herald.tick.run)  # batches go to the send threads
    await live.eventually(lambda: _accepted() > 200, timeout=60)

    acks, keys = [], []
    for line in (
        "/broadcast list",
        "/stats today",
        f"/broadcast show {b['id']}",
        "/contacts count tags:vip",
        "/templates list",
    ):
        answered = await slack.command(line)
        assert answered.status == 200
        acks.append(answered.seconds)
        keys.append(answered.key)
    sending_meanwhile = await asyncio.to_thread(live.herald.in_db, _accepted)
    assert max(acks) < ACK_BUDGET, acks
    assert sending_meanwhile < RECIPIENTS  # the broadcast was still sending throughout
    for key in keys:  # and every command got its answer
        assert (await slack.answer(key, timeout=60))["blocks"]

    await live.api.post(f"/api/broadcasts/{b['id']}/cancel")
    await asyncio.to_thread(live.herald.dispatcher.drain)
