"""The messaging limit as Meta says it: read from the Graph API (at template sync, on the tick's
first pass, then hourly) and from ``business_capability_update``; rows held for room go on
their own when the limit rises. SQLite and PostgreSQL."""

from __future__ import annotations

import orjson

from engine.whatsapp.simulate import webhook
from tests.helpers import phones, seed_contacts
from tests.live import Live


async def _metric(live: Live, name: str) -> str | None:
    text = await (await live.client.get("/metrics")).text()
    found = [line for line in text.splitlines() if line.startswith(f"{name} ")]
    return found[0].split()[1] if found else None


def _limit_reads(live: Live) -> int:
    return sum(
        1
        for r in live.cloud.requests
        if r.method == "GET"
        and r.path.endswith(f"/{live.cloud.phone_number_id}")
        and r.query.get("fields") == "whatsapp_business_manager_messaging_limit"
    )


async def test_the_limit_is_read_from_meta_and_a_raise_lets_held_rows_go_without_anyone(live: Live) -> None:
    assert _limit_reads(live) == 1  # the template sync the world starts with read it: unlimited
    assert await _metric(live, "herald_messaging_limit") is None
    live.cloud.messaging_limit = "TIER_250"
    status, _ = await live.api.post("/api/templates/sync")
    assert status == 200
    assert await _metric(live, "herald_messaging_limit") == "250.0"

    numbers = phones(300)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    status, b = await live.api.post(
        "/api/broadcasts", {"template": "thank_you", "tags": ["vip"], "schedule": "now"}
    )
    assert status == 201, b
    await live.settle()
    assert len(live.sends_to()) == 250
    _, got = await live.api.get(f"/api/broadcasts/{b['id']}")
    assert got["funnel"]["held"] == {"messaging_limit": 50}

    # Meta raises the limit (webhook): the held rows go at the next pass, no person acting
    raised = webhook(
        "business_capability_update",
        {"max_daily_conversations_per_business": 2000, "max_phone_numbers_per_waba": 25},
        business_account_id=live.cloud.business_account_id,
        time=live.clock.now(),
    )
    assert await live.cloud.webhooks.post_webhook(live.webhook_url, orjson.dumps(raised)) == 200
    await live.webhooks_applied()
    assert live.sends_to() == dict.fromkeys(numbers, 1)
    _, got = await live.api.get(f"/api/broadcasts/{b['id']}")
    assert (got["status"], got["funnel"]["held"]) == ("completed", {})
    assert await _metric(live, "herald_messaging_limit") == "2000.0"

    # the tick reads it again every hour
    reads = _limit_reads(live)
    live.cloud.messaging_limit = "TIER_10K"
    live.clock.advance(minutes=30)
    await live.tick()
    assert _limit_reads(live) == reads
    live.clock.advance(minutes=31)
    await live.tick()
    assert _limit_reads(live) == reads + 1
    assert await _metric(live, "herald_messaging_limit") == "10000.0"


async def test_a_limit_meta_does_not_answer_changes_nothing(live: Live) -> None:
    live.cloud.messaging_limit = "TIER_250"
    await live.api.post("/api/templates/sync")
    live.cloud.fail(2, on="number", times=None)  # Graph down: the stored limit stands
    live.clock.advance(hours=2)
    await live.tick()
    assert await _metric(live, "herald_messaging_limit") == "250.0"
