"""The daily digest (once a day among several schedulers, with the week's chart), /stats, and alerts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from playhouse.test_utils import count_queries

from bot.container import Herald, build
from bot.slack.outbound import SlackOutbound, connect
from bot.slack.views.broadcast import CONFIRM_ACTION
from storage.models import bind
from tests.helpers import phones, seed_contacts
from tests.slack.conftest import CHANNEL, SlackWorld

DIGEST = "C0DIGEST"


@pytest.fixture
def slack_overrides() -> dict[str, Any]:
    return {"digest_channel": DIGEST}


@dataclass
class Scheduler:
    herald: Herald
    slack: SlackOutbound


@pytest.fixture
async def second_scheduler(slack: SlackWorld) -> AsyncIterator[Scheduler]:
    """Another process on the same database, with its own Slack connection and digest job."""
    live = slack.live
    other = build(live.herald.settings, clock=live.clock, direct_only=True)
    bind(live.herald.database)  # build() points the models at its own database object; one is enough
    yield Scheduler(other, connect(other))
    await asyncio.to_thread(other.close)
    if hasattr(other.database, "close_all"):
        other.database.close_all()


def _text(message: dict[str, Any]) -> str:
    return str(message.get("blocks") or message.get("text"))


async def _send_monday(slack: SlackWorld, count: int) -> None:
    live = slack.live
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(count)])
    preview = await slack.answer((await slack.command("/broadcast promo_autumn tags:vip now")).key)
    await slack.answer((await slack.click(preview, CONFIRM_ACTION)).key)
    await live.settle()
    await live.cloud.webhooks.deliver_statuses(live.webhook_url, until="delivered")
    await live.settle()


async def _tick_both(slack: SlackWorld, other: Scheduler) -> None:
    mine, theirs = slack.live.herald, other.herald
    await asyncio.gather(
        asyncio.to_thread(mine.in_db, mine.tick.run), asyncio.to_thread(theirs.in_db, theirs.tick.run)
    )


async def test_the_digest_is_posted_once_with_two_schedulers_and_the_weeks_chart(
    slack: SlackWorld, second_scheduler: Scheduler
) -> None:
    live, fake = slack.live, slack.fake
    await _send_monday(slack, 8)
    live.clock.advance(days=1, minutes=-1)  # Tue 07:59... then 08:59: not yet
    live.clock.advance(hours=1)
    await _tick_both(slack, second_scheduler)
    assert slack.posts(DIGEST) == []

    live.clock.advance(minutes=1)  # Tue 09:00 UTC
    await _tick_both(slack, second_scheduler)
    await _tick_both(slack, second_scheduler)
    digest = (await fake.wait(lambda: slack.posts(DIGEST)))[0]
    await fake.wait(lambda: fake.of("files.completeUploadExternal"))
    live.clock.advance(hours=3)
    await _tick_both(slack, second_scheduler)
    await slack.quiet(second_scheduler.slack.poster)
    assert len(slack.posts(DIGEST)) == 1
    assert len(fake.of("files.getUploadURLExternal")) == 1
    assert len(fake.uploads) == 1
    assert next(iter(fake.uploads.values())).startswith(b"\x89PNG")
    assert fake.of("files.completeUploadExternal")[0].args["channel_id"] == DIGEST

    text = _text(digest)
    assert "Herald daily digest · Mon 30 Nov 2026 (UTC)" in text
    assert "*Sent*\\n8 (new)" in text
    assert "*Delivered*\\n8 (new)" in text
    assert "promo_autumn → vip: 8/8 sent · 100% delivered" in text


async def test_the_digest_is_cheap_until_it_is_due(slack: SlackWorld) -> None:
    herald = slack.live.herald
    job = slack.parts.outbound.digest
    assert job is not None

    def quiet_pass() -> int:
        with count_queries() as counter:
            assert job() is None
        return counter.count

    assert herald.in_db(quiet_pass) == 0  # 08:00, before DIGEST_TIME
    slack.live.clock.advance(hours=1)
    assert herald.in_db(job) == "2026-11-30"
    assert herald.in_db(quiet_pass) == 0  # done for today


async def test_a_digest_slack_refused_is_posted_on_a_later_pass(slack: SlackWorld) -> None:
    fake = slack.fake
    fake.fail("chat.postMessage", "internal_error")
    slack.live.clock.advance(hours=1)
    await slack.live.tick()
    await slack.quiet()  # refused, and the claim given back
    assert len(slack.posts(DIGEST)) == 1
    await slack.live.tick()
    assert len(slack.posts(DIGEST)) == 1  # not again at once
    slack.live.clock.advance(minutes=1)
    await slack.live.tick()
    posted = await fake.wait(lambda: slack.posts(DIGEST)[1:])
    assert "Nothing was sent in this period." in _text(posted[0])
    assert fake.of("files.getUploadURLExternal") == []  # no chart for an empty week


async def test_stats_on_demand_compares_with_the_day_before(slack: SlackWorld) -> None:
    await _send_monday(slack, 4)
    slack.live.clock.advance(timedelta(days=1))
    answer = await slack.answer((await slack.command("/stats yesterday")).key)
    text = _text(answer)
    assert "Yesterday (UTC)" in text
    assert "*Sent*\\n4 (new)" in text
    assert "Compared with the day before." in text


async def test_a_paused_template_is_alerted_under_the_broadcasts_live_funnel(slack: SlackWorld) -> None:
    import orjson

    from engine.whatsapp.simulate import webhook

    live, fake = slack.live, slack.fake
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(3)])
    preview = await slack.answer((await slack.command("/broadcast promo_autumn tags:vip now")).key)
    await slack.answer((await slack.click(preview, CONFIRM_ACTION)).key)
    funnel = (await fake.wait(lambda: slack.posts(CHANNEL)))[0]
    change = webhook(
        "message_template_status_update",
        {
            "event": "PAUSED",
            "message_template_id": 1000000000000002,
            "message_template_name": "promo_autumn",
            "message_template_language": "en",
            "reason": "LOW_QUALITY",
        },
        business_account_id=live.cloud.business_account_id,
    )
    await live.cloud.webhooks.post_webhook(live.webhook_url, orjson.dumps(change))
    await live.settle()
    alerts = await fake.wait(lambda: [p for p in slack.posts(CHANNEL) if "⚠️" in p["text"]])
    assert "promo_autumn is PAUSED" in alerts[0]["text"]
    ts = next(ts for (channel, ts) in fake.messages if channel == CHANNEL)
    assert alerts[0]["thread_ts"] == ts
    assert funnel


async def test_an_account_wide_alert_goes_to_the_digest_channel(slack: SlackWorld) -> None:
    live = slack.live
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(2)])
    live.cloud.fail(190, times=None)
    await live.api.post("/api/broadcasts", {"template": "thank_you", "tags": ["vip"], "schedule": "now"})
    await live.settle()
    alert = (await slack.fake.wait(lambda: slack.posts(DIGEST)))[0]
    assert "WHATSAPP_TOKEN" in alert["text"]
