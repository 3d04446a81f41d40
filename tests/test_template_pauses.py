"""Templates Meta pauses or disables mid-broadcast; SQLite and PostgreSQL, through the front door.

PAUSED (a webhook, or a send answered 132015) stops the template everywhere within seconds,
rows already handed to a batch included; they wait, never failed, and go on by themselves
when Meta reinstates it. DISABLED (or 132016) pauses the broadcast for a person. Slack-bound
alerts both ways.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import pytest

from engine.whatsapp.simulate import webhook
from storage.models import Broadcast, OutboundMessage, Template
from tests.helpers import phones, seed_contacts
from tests.live import Live

RATE = 20  # sends a second: a 200-recipient broadcast takes ten seconds


@pytest.fixture
def live_overrides() -> dict[str, Any]:
    return {"whatsapp_mps": RATE}


def _status_change(live: Live, event: str, **extra: Any) -> bytes:
    body = webhook(
        "message_template_status_update",
        {
            "event": event,
            "message_template_id": 1000000000000002,
            "message_template_name": "promo_autumn",
            "message_template_language": "en",
            "reason": extra.pop("reason", "NONE"),
            **extra,
        },
        business_account_id=live.cloud.business_account_id,
    )
    return orjson.dumps(body)


@asynccontextmanager
async def _ticking(live: Live) -> AsyncIterator[None]:
    """The scheduler's loop, as ``serve`` runs it: a tick every 0.2 s in a thread of its own."""
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            live.herald.in_db(live.herald.tick.run)
            stop.wait(0.2)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        await asyncio.to_thread(thread.join, 10)
        await asyncio.to_thread(live.herald.dispatcher.drain)


def _promo_sends(live: Live) -> list[float]:
    """When each send of promo_autumn reached the fake (monotonic seconds), accepted or not."""
    return [
        r.at
        for r in live.cloud.sends()
        if r.json and r.json.get("template", {}).get("name") == "promo_autumn"
    ]


def _meta_pauses(live: Live, status: str) -> None:
    """What Meta does to the template on its side: its sends are refused from now on."""
    template = live.cloud.catalogue.get("promo_autumn", "en")
    assert template is not None
    template["status"] = status  # type: ignore[index]


async def _until(check: Any, timeout: float, why: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, why
        await asyncio.sleep(0.02)


async def test_a_paused_template_stops_within_seconds_and_reinstated_it_finishes_each_once(
    live: Live,
) -> None:
    numbers = phones(200)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    status, b = await live.api.post(
        "/api/broadcasts", {"template": "promo_autumn", "tags": ["vip"], "schedule": "now"}
    )
    assert status == 201, b
    async with _ticking(live):
        await _until(lambda: len(live.cloud.accepted) >= 40, 20, "40 sends")
        _meta_pauses(live, "PAUSED")
        assert await live.cloud.webhooks.post_webhook(live.webhook_url, _status_change(live, "PAUSED")) == 200
        paused_at = time.monotonic()
        await asyncio.sleep(6)
    late = [at for at in _promo_sends(live) if at > paused_at + 5]
    assert late == [], f"{len(late)} sends more than 5 s after the PAUSED webhook"
    sent_before = len(live.cloud.accepted)
    assert sent_before < 200

    _, got = await live.api.get(f"/api/broadcasts/{b['id']}")
    assert got["status"] == "sending"  # nobody paused it: it waits for Meta
    funnel = got["funnel"]
    assert funnel["failed"] == 0
    assert funnel["held"] == {"template_paused": 200 - funnel["sent"]}
    with live.herald.database.connection_context():
        assert {m.state for m in OutboundMessage.select() if m.accepted_at is None} == {"queued"}
    await live.settle()
    assert len(live.cloud.accepted) == sent_before  # the tick leaves them waiting too
    alerts = [a for a in live.notes.of("alert") if a["kind"] == "template_paused"]
    assert alerts
    assert alerts[0]["broadcast"]["id"] == b["id"]
    assert "go on by themselves" in alerts[0]["message"]

    _meta_pauses(live, "APPROVED")
    assert await live.cloud.webhooks.post_webhook(live.webhook_url, _status_change(live, "REINSTATED")) == 200
    await live.webhooks_applied()
    assert live.sends_to() == dict.fromkeys(numbers, 1)
    _, got = await live.api.get(f"/api/broadcasts/{b['id']}")
    assert (got["status"], got["funnel"]["sent"], got["funnel"]["failed"]) == ("completed", 200, 0)
    back = [a for a in live.notes.of("alert") if a["kind"] == "template_approved"]
    assert back
    assert back[0]["broadcast"]["id"] == b["id"]


async def test_a_132015_answer_stops_the_template_like_the_webhook(live: Live) -> None:
    numbers = phones(60)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    _meta_pauses(live, "PAUSED")  # Meta paused it and its webhook has not come (or never will)
    status, b = await live.api.post(
        "/api/broadcasts", {"template": "promo_autumn", "tags": ["vip"], "schedule": "now"}
    )
    assert status == 201, b
    await live.settle()
    refused = len(_promo_sends(live))
    assert 1 <= refused <= 20  # one part at most: the first answer stops the rest
    assert live.cloud.accepted == []
    with live.herald.database.connection_context():
        assert Template.get(Template.name == "promo_autumn").status == "PAUSED"
    _, got = await live.api.get(f"/api/broadcasts/{b['id']}")
    assert (got["status"], got["funnel"]["failed"], got["funnel"]["held"]) == (
        "sending",
        0,
        {"template_paused": 60},
    )
    assert any("132015" in a["message"] for a in live.notes.of("alert") if a["kind"] == "template_paused")

    _meta_pauses(live, "APPROVED")
    status, _ = await live.api.post("/api/templates/sync")  # Meta's list says APPROVED again
    assert status == 200
    await live.settle()
    assert live.sends_to() == dict.fromkeys(numbers, 1)
    _, got = await live.api.get(f"/api/broadcasts/{b['id']}")
    assert (got["status"], got["funnel"]["failed"]) == ("completed", 0)


@pytest.mark.parametrize("how", ["webhook", "answer"])
async def test_a_disabled_template_pauses_the_broadcast_for_a_person(live: Live, how: str) -> None:
    numbers = phones(30)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    status, b = await live.api.post(
        "/api/broadcasts", {"template": "promo_autumn", "tags": ["vip"], "schedule": "draft"}
    )
    assert status == 201, b
    _meta_pauses(live, "DISABLED")
    status, _ = await live.api.post(f"/api/broadcasts/{b['id']}/send")
    assert status == 200
    if how == "webhook":
        assert (
            await live.cloud.webhooks.post_webhook(live.webhook_url, _status_change(live, "DISABLED")) == 200
        )
        await live.webhooks_applied()
    else:
        await live.settle()
    assert live.cloud.accepted == []
    _, got = await live.api.get(f"/api/broadcasts/{b['id']}")
    assert got["status"] == "paused"
    assert "DISABLED" in got["status_reason"]
    assert (got["funnel"]["failed"], got["funnel"]["pending"]) == (0, 30)
    alerts = [a for a in live.notes.of("alert") if a["kind"] == "template_disabled"]
    assert alerts
    assert "choose another template" in alerts[0]["message"]
    status, _ = await live.api.post(f"/api/broadcasts/{b['id']}/resume")
    assert status == 422
    with live.herald.database.connection_context():
        assert Broadcast.get_by_id(b["id"]).status == "paused"


async def test_a_broadcast_due_while_its_template_is_paused_starts_and_waits_for_it(live: Live) -> None:
    numbers = phones(10)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    status, b = await live.api.post(
        "/api/broadcasts",
        {"template": "promo_autumn", "tags": ["vip"], "schedule": "2026-11-30T09:00", "timezone": "UTC"},
    )
    assert status == 201, b
    _meta_pauses(live, "PAUSED")
    assert await live.cloud.webhooks.post_webhook(live.webhook_url, _status_change(live, "PAUSED")) == 200
    await live.webhooks_applied()
    live.clock.advance(hours=1)
    await live.settle()
    _, got = await live.api.get(f"/api/broadcasts/{b['id']}")
    assert (got["status"], got["funnel"]["held"]) == ("sending", {"template_paused": 10})
    assert live.cloud.sends() == []
    _meta_pauses(live, "APPROVED")
    assert await live.cloud.webhooks.post_webhook(live.webhook_url, _status_change(live, "REINSTATED")) == 200
    await live.webhooks_applied()
    assert live.sends_to() == dict.fromkeys(numbers, 1)
