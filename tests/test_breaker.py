"""The circuit breaker: failures or opt-outs over a broadcast's last outcomes, or the number rated
RED or FLAGGED, pause every sending MARKETING broadcast with the reason ``breaker``, with an
alert naming the trigger and its figures; only an admin resumes. SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from engine.whatsapp.simulate import webhook
from storage.models import AuditLog
from tests.helpers import phones, seed_contacts
from tests.live import Live

WINDOW = 100  # outcomes judged; a fifth of it (20) is the floor a rate is taken over


@pytest.fixture
def live_overrides() -> dict[str, Any]:
    # one direct-processing thread: batches run one after the other, in the order dispatched
    return {"breaker_window": WINDOW, "worker_threads": 1}


async def _broadcast(live: Live, template: str, tag: str, schedule: str = "now") -> dict[str, Any]:
    status, body = await live.api.post(
        "/api/broadcasts", {"template": template, "tags": [tag], "schedule": schedule}
    )
    assert status == 201, body
    return body


async def _get(live: Live, broadcast_id: int) -> dict[str, Any]:
    status, body = await live.api.get(f"/api/broadcasts/{broadcast_id}")
    assert status == 200, body
    return body


def _breaker_alerts(live: Live) -> list[dict[str, Any]]:
    return [a for a in live.notes.of("alert") if a["kind"] == "breaker"]


async def test_failures_over_the_rate_pause_every_sending_marketing_broadcast(live: Live) -> None:
    bad, other, utility = phones(200), phones(100, start=200), phones(100, start=300)
    seed_contacts(
        live.herald,
        [(p, ["bad"]) for p in bad] + [(p, ["other"]) for p in other] + [(p, ["utility"]) for p in utility],
    )
    for number in bad[::3]:  # a third of them cannot be reached
        live.cloud.fail(131026, to=number)
    first = await _broadcast(live, "promo_autumn", "bad")
    second = await _broadcast(live, "last_chance", "other")
    third = await _broadcast(live, "thank_you", "utility")
    await live.settle()

    got = await _get(live, first["id"])
    assert got["status"] == "paused"
    assert got["status_reason"].startswith("breaker: ")
    assert "failed" in got["status_reason"]
    assert "the breaker allows 10%" in got["status_reason"]
    assert got["funnel"]["held"] == {"breaker": got["funnel"]["pending"]}
    assert got["funnel"]["pending"] > 0  # stopped mid-way
    assert (await _get(live, second["id"]))["status"] == "paused"  # MARKETING: paused too
    assert (await _get(live, third["id"]))["status"] == "completed"  # UTILITY goes on
    alerts = _breaker_alerts(live)
    assert sorted(a["broadcast"]["id"] for a in alerts) == sorted([first["id"], second["id"]])
    assert all("Circuit breaker" in a["message"] and "%" in a["message"] for a in alerts)
    text = await (await live.client.get("/metrics")).text()
    assert 'herald_held_rows{reason="breaker"}' in text
    with live.herald.database.connection_context():
        moves = [
            (a.face, a.actor, a.action) for a in AuditLog.select().where(AuditLog.target == str(first["id"]))
        ]
    assert ("system", "breaker", "broadcast.pause") in moves

    # an admin (the API's bearer) resumes; the window starts afresh, so it goes on to the end
    live.cloud.clear()
    for b in (first, second):
        status, _ = await live.api.post(f"/api/broadcasts/{b['id']}/resume")
        assert status == 200
    await live.settle()
    for b in (first, second):
        got = await _get(live, b["id"])
        assert (got["status"], got["funnel"]["held"]) == ("completed", {})
    assert set(live.sends_to().values()) == {1}  # nobody twice
    funnel = (await _get(live, first["id"]))["funnel"]
    assert (funnel["sent"] + funnel["failed"], funnel["failed"]) == (200, 34)  # the first batch's third


def _user_preferences_stop(live: Live, phone: str) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001234", "phone_number_id": live.cloud.phone_number_id},
        "contacts": [{"wa_id": phone.lstrip("+")}],
        "user_preferences": [
            {
                "wa_id": phone.lstrip("+"),
                "detail": "User requested to stop marketing messages",
                "category": "marketing_messages",
                "value": "stop",
                "timestamp": int(live.clock.now().timestamp()),
            }
        ],
    }
    return orjson.dumps(
        webhook("user_preferences", value, business_account_id=live.cloud.business_account_id)
    )


@pytest.mark.parametrize("third", ["STOP", "Stop promotions button", "user_preferences", "131050"])
async def test_opt_outs_over_the_rate_trip_it_whichever_way_people_say_stop(live: Live, third: str) -> None:
    first, later = phones(100), phones(50, start=100)
    seed_contacts(live.herald, [(p, ["first"]) for p in first] + [(p, ["later"]) for p in later])
    done = await _broadcast(live, "promo_autumn", "first")
    await live.settle()
    assert (await _get(live, done["id"]))["status"] == "completed"
    waiting = await _broadcast(live, "last_chance", "later")  # sending, nothing sent yet

    for phone in first[:2]:  # 2 of 100: not over 2%
        assert await live.cloud.webhooks.post_inbound(live.webhook_url, phone, "STOP") == 200
    await live.webhooks_applied()
    assert _breaker_alerts(live) == []
    assert len([m for m in live.cloud.accepted if m.template == "last_chance"]) == 50  # went on

    fresh = await _broadcast(live, "welcome_offer", "later")
    phone = first[2]
    if third == "STOP":
        answer = await live.cloud.webhooks.post_inbound(live.webhook_url, phone, "stop")
    elif third == "Stop promotions button":
        answer = await live.cloud.webhooks.post_inbound(
            live.webhook_url, phone, "Stop promotions", button_payload="Stop promotions"
        )
    elif third == "user_preferences":
        answer = await live.cloud.webhooks.post_webhook(live.webhook_url, _user_preferences_stop(live, phone))
    else:
        message = next(m for m in live.cloud.accepted if m.to == phone)
        status = live.cloud.webhooks.status(message, "failed", code=131050)
        answer = (await live.cloud.webhooks.post_statuses(live.webhook_url, [status]))[0]
    assert answer == 200
    await live.webhooks_applied()
    alerts = _breaker_alerts(live)
    assert [a["broadcast"]["id"] for a in alerts] == [fresh["id"]]
    assert "3 recipients of the last 100 sends" in alerts[0]["message"]
    assert "opted out or blocked (3.0%; the breaker allows 2%)" in alerts[0]["message"]
    got = await _get(live, fresh["id"])
    assert (got["status"], got["funnel"]["sent"]) == ("paused", 0)
    assert (await _get(live, waiting["id"]))["status"] == "completed"


async def test_the_number_rated_flagged_pauses_marketing_at_once(live: Live) -> None:
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(20)])
    marketing = await _broadcast(live, "promo_autumn", "vip")
    utility = await _broadcast(live, "thank_you", "vip")
    flagged = webhook(
        "phone_number_quality_update",
        {"display_phone_number": "15550001234", "event": "FLAGGED", "current_limit": "TIER_2K"},
        business_account_id=live.cloud.business_account_id,
    )
    assert await live.cloud.webhooks.post_webhook(live.webhook_url, orjson.dumps(flagged)) == 200
    await live.webhooks_applied()
    got = await _get(live, marketing["id"])
    assert got["status"] == "paused"
    assert got["status_reason"] == "breaker: Meta rates the business number's quality FLAGGED"
    assert (await _get(live, utility["id"]))["status"] == "completed"
    assert [a["broadcast"]["id"] for a in _breaker_alerts(live)] == [marketing["id"]]
