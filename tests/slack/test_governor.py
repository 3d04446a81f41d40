"""The delivery governor in Slack: the preview states the messaging limit, the live funnel shows
what waits and why, and a circuit breaker's alert under it has a Resume button only admins can use."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.views.broadcast import CONFIRM_ACTION, RESUME_ACTION
from storage.models import Broadcast
from tests.helpers import phones, seed_contacts
from tests.slack.conftest import ADMIN, CHANNEL, READER, SlackWorld


@pytest.fixture
def slack_overrides() -> dict[str, Any]:
    # one direct-processing thread: the batches of 100 go one after the other
    return {"messaging_limit": 100, "breaker_window": 20, "worker_threads": 1}


def _text(message: dict[str, Any]) -> str:
    return str(message.get("blocks") or message.get("text"))


async def test_a_breaker_alert_resumes_only_for_an_admin_and_the_funnel_says_what_waits(
    slack: SlackWorld,
) -> None:
    live, fake = slack.live, slack.fake
    numbers = phones(150)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    for number in numbers[:30]:
        live.cloud.fail(131026, to=number)
    preview = await slack.answer((await slack.command("/broadcast promo_autumn tags:vip now")).key)
    shown = _text(preview)
    assert "Messaging limit: 100 people a day; templates reached 0 in the last 24 h" in shown
    assert "100 go now; 50 wait for room and go from Tue 1 Dec 08:01 UTC" in shown
    await slack.answer((await slack.click(preview, CONFIRM_ACTION)).key)
    await live.settle()

    alert = (await fake.wait(lambda: [p for p in slack.posts(CHANNEL) if "Circuit breaker" in p["text"]]))[0]
    assert "30 of the last 100 sends" in alert["text"]
    assert alert["thread_ts"] == next(ts for (channel, ts) in fake.messages if channel == CHANNEL)
    with live.herald.database.connection_context():
        broadcast_id = Broadcast.get().id
    await slack.idle()
    assert "Waiting 50 (circuit breaker 50)" in _text(fake.messages[(CHANNEL, alert["thread_ts"])])
    shown = await slack.answer((await slack.command(f"/broadcast show {broadcast_id}", user=READER)).key)
    assert "Waiting 50 (circuit breaker 50)" in _text(shown)
    assert "Paused: breaker: 30 of the last 100 sends" in _text(shown)

    refused = await slack.answer((await slack.click(alert, RESUME_ACTION, user=READER)).key)
    assert refused["response_type"] == "ephemeral"
    assert "SLACK_ADMINS" in _text(refused)
    with live.herald.database.connection_context():
        assert Broadcast.get_by_id(broadcast_id).status == "paused"

    done = await slack.answer((await slack.click(alert, RESUME_ACTION, user=ADMIN)).key)
    assert "resumed" in _text(done).lower()
    await live.settle()
    with live.herald.database.connection_context():
        b = Broadcast.get_by_id(broadcast_id)
        assert (b.status, b.held_reason) == ("sending", None)
    await slack.idle()
    # the 30 failed gave their room back: 30 more go, 20 wait for the limit
    assert "Waiting 20 (messaging limit 20)" in _text(fake.messages[(CHANNEL, alert["thread_ts"])])
    assert len(live.sends_to()) == 100
