"""The canonical Slack flow end to end: a signed /broadcast, the preview, Confirm, sends, the live funnel."""

from __future__ import annotations

from typing import Any

from bot.slack.views.broadcast import CANCEL_ACTION, CONFIRM_ACTION
from storage.models import AuditLog, Broadcast
from tests.fakes.slack_api import FakeSlackApi
from tests.helpers import phones, seed_contacts
from tests.slack.conftest import ADMIN, CHANNEL, SlackWorld


def _text(message: dict[str, Any]) -> str:
    return str(message.get("blocks") or message.get("text"))


async def test_the_canonical_broadcast_is_previewed_confirmed_sent_and_followed_live(
    slack: SlackWorld,
) -> None:
    live, fake = slack.live, slack.fake
    numbers = phones(12)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])

    asked = await slack.command("/broadcast promo_autumn tags:vip now")
    assert asked.status == 200
    assert asked.body == ""  # acked at once; the answer follows through response_url
    preview = await slack.answer(asked.key)
    shown = _text(preview)
    assert "`promo_autumn` (MARKETING, en)" in shown
    assert "12 will get it" in shown
    assert "First 10 of 12" in shown
    assert numbers[0] not in str(preview)  # phones are masked
    assert live.cloud.sends() == []  # nothing is sent before Confirm

    clicked = await slack.click(preview, CONFIRM_ACTION)
    assert clicked.status == 200
    done = await slack.answer(clicked.key)
    assert done["replace_original"] is True
    assert f"Confirmed by <@{ADMIN}>" in _text(done)

    await live.settle()
    assert live.sends_to() == dict.fromkeys(numbers, 1)
    posted = await fake.wait(lambda: slack.posts(CHANNEL))
    assert len(posted) == 1  # one live funnel message
    await fake.wait(lambda: _funnel(fake) and "12 / 12 handled" in _text(_funnel(fake)))
    await live.cloud.webhooks.deliver_statuses(live.webhook_url, until="read")
    await fake.wait(lambda: "Read 12 (100%)" in _text(_funnel(fake)))
    await slack.idle()
    message = _funnel(fake)
    assert message["edits"] >= 1
    assert "✅ Completed" in _text(message)
    assert len(slack.posts(CHANNEL)) == 1  # edited in place, never posted again

    said = str([c.args for c in fake.calls]) + str(fake.responses)
    assert not [p for p in numbers if p in said]  # no full phone number ever reaches Slack
    assert "fake-cloud-api-token" not in said

    with live.herald.database.connection_context():
        b = Broadcast.get()
        assert b.notify["slack"]["message"]["channel"] == CHANNEL
        actions = [(a.face, a.actor, a.action) for a in AuditLog.select().order_by(AuditLog.id)]
    assert ("slack", ADMIN, "broadcast.create") in actions
    assert ("slack", ADMIN, "broadcast.start") in actions


def _funnel(fake: FakeSlackApi) -> dict[str, Any]:
    found = [m for (channel, _), m in fake.messages.items() if channel == CHANNEL]
    return found[0] if found else {}


async def test_cancel_drops_the_preview_and_nothing_is_sent(slack: SlackWorld) -> None:
    seed_contacts(slack.live.herald, [(p, ["vip"]) for p in phones(3)])
    asked = await slack.command("/broadcast promo_autumn tags:vip now")
    preview = await slack.answer(asked.key)
    clicked = await slack.click(preview, CANCEL_ACTION)
    done = await slack.answer(clicked.key)
    assert "was dropped; nothing was sent" in _text(done)
    await slack.live.settle()
    assert slack.live.cloud.sends() == []
    with slack.live.herald.database.connection_context():
        assert Broadcast.get().status == "cancelled"


async def test_a_channel_the_bot_cannot_post_in_gets_the_funnel_by_dm_to_its_creator(
    slack: SlackWorld,
) -> None:
    live, fake = slack.live, slack.fake
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(2)])
    fake.unreachable.add(CHANNEL)
    preview = await slack.answer((await slack.command("/broadcast promo_autumn tags:vip now")).key)
    await slack.answer((await slack.click(preview, CONFIRM_ACTION)).key)
    await live.settle()
    dm = "D" + ADMIN[1:]
    await fake.wait(lambda: [m for (channel, _), m in fake.messages.items() if channel == dm])
    await slack.idle()
    with live.herald.database.connection_context():
        assert Broadcast.get().notify["slack"]["message"]["channel"] == dm  # later edits go there too


async def test_a_broadcast_confirmed_in_a_thread_reports_in_that_thread(slack: SlackWorld) -> None:
    live, fake = slack.live, slack.fake
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(2)])
    await slack.mention("send promo_autumn to vip now")
    preview = (await fake.wait(lambda: slack.posts(CHANNEL)))[0]
    await slack.mention("yes", thread=preview["thread_ts"])
    await fake.wait(lambda: "Confirmed by" in str(slack.posts(CHANNEL)))
    await live.settle()
    funnel = await fake.wait(lambda: [p for p in slack.posts(CHANNEL) if "handled" in str(p.get("blocks"))])
    assert funnel[0]["thread_ts"] == preview["thread_ts"]
