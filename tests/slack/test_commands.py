"""Slash commands through the signed front door: who may do what, times, help, signatures, Slack's limits."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bot.slack.views.broadcast import CONFIRM_ACTION
from engine.actor import SYSTEM
from storage.models import AuditLog, Broadcast, Contact, OutboundMessage
from tests.helpers import phones, seed_contacts
from tests.slack.conftest import CHANNEL, KOLKATA_ADMIN, NEW_YORK_ADMIN, READER, SlackWorld


def _text(message: dict[str, Any]) -> str:
    return str(message.get("blocks") or message.get("text"))


def _state(slack: SlackWorld) -> tuple[Any, ...]:
    """Everything a refused request must leave as it was."""
    with slack.live.herald.database.connection_context():
        return (
            [(b.id, b.status) for b in Broadcast.select()],
            [(c.phone, c.opted_in, c.status) for c in Contact.select().order_by(Contact.id)],
            OutboundMessage.select().count(),
            [(a.action, a.actor) for a in AuditLog.select()],
        )


async def test_a_scheduled_broadcast_waits_for_confirm_then_for_its_time(slack: SlackWorld) -> None:
    live = slack.live
    numbers = phones(5)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    preview = await slack.answer((await slack.command("/broadcast promo_autumn tags:vip at 9am")).key)
    assert "Mon 30 Nov 09:00 UTC" in _text(preview)
    await live.settle()
    done = await slack.answer((await slack.click(preview, CONFIRM_ACTION)).key)
    assert "is scheduled for Mon 30 Nov 09:00 UTC" in _text(done)
    await live.settle()
    assert live.cloud.sends() == []  # 08:00: not yet
    live.clock.advance(hours=1)
    await live.settle()
    assert live.sends_to() == dict.fromkeys(numbers, 1)
    await slack.fake.wait(lambda: slack.posts(CHANNEL))  # the live funnel starts with the send


async def test_times_are_read_in_the_askers_slack_timezone(slack: SlackWorld) -> None:
    seed_contacts(slack.live.herald, [(phones(1)[0], ["vip"])])
    preview = await slack.answer(
        (await slack.command("/broadcast promo_autumn tags:vip at 9pm", user=KOLKATA_ADMIN)).key
    )
    assert "Mon 30 Nov 21:00 Asia/Kolkata (15:30 UTC)" in _text(preview)
    again = await slack.answer((await slack.command("/broadcast list", user=KOLKATA_ADMIN)).key)
    assert again
    assert len(slack.fake.of("users.info", user=KOLKATA_ADMIN)) == 1  # kept, not asked every time


@pytest.mark.parametrize(
    ("at", "says"),
    [
        ("2027-03-14 02:30", "does not exist in America/New_York: the clocks jump forward 1 hour then"),
        ("2027-11-07 01:30", "happens twice in America/New_York: the clocks go back 1 hour then"),
    ],
)
async def test_a_time_the_askers_clocks_skip_or_repeat_is_refused_and_nothing_is_created(
    slack: SlackWorld, at: str, says: str
) -> None:
    seed_contacts(slack.live.herald, [(phones(1)[0], ["vip"])])
    line = f"/broadcast promo_autumn tags:vip at {at}"
    refused = await slack.answer((await slack.command(line, user=NEW_YORK_ADMIN)).key)
    assert says in _text(refused)
    assert "Did you mean" in _text(refused)
    assert slack.live.herald.in_db(lambda: Broadcast.select().count()) == 0


@pytest.mark.parametrize(
    "line",
    [
        "/broadcast promo_autumn tags:vip now",
        "/broadcast cancel 1",
        "/contacts optout +447911000000",
        "/contacts add +447911000999 tags:vip",
        "/sequence enroll onboarding +447911000000",
    ],
)
async def test_a_non_admin_is_refused_privately_and_nothing_changes(slack: SlackWorld, line: str) -> None:
    seed_contacts(slack.live.herald, [(p, ["vip"]) for p in phones(2)])
    onboarding = {
        "name": "onboarding",
        "trigger": {"type": "manual"},
        "steps": [{"id": "hello", "type": "message", "template": "thank_you"}],
    }
    slack.live.herald.in_db(slack.live.herald.sequences.create, onboarding, by=SYSTEM)
    before = _state(slack)[:3]
    answer = await slack.answer((await slack.command(line, user=READER)).key)
    assert answer["response_type"] == "ephemeral"
    assert "Only Herald admins can" in _text(answer)
    assert _state(slack)[:3] == before


async def test_a_non_admin_click_on_an_admins_preview_is_refused_and_the_preview_stays(
    slack: SlackWorld,
) -> None:
    seed_contacts(slack.live.herald, [(p, ["vip"]) for p in phones(2)])
    preview = await slack.answer((await slack.command("/broadcast promo_autumn tags:vip now")).key)
    refused = await slack.answer((await slack.click(preview, CONFIRM_ACTION, user=READER)).key)
    assert refused["replace_original"] is False
    assert refused["response_type"] == "ephemeral"
    await slack.live.settle()
    assert slack.live.cloud.sends() == []
    with slack.live.herald.database.connection_context():
        assert Broadcast.get().status == "draft"


async def test_a_double_click_confirms_once(slack: SlackWorld) -> None:
    live = slack.live
    numbers = phones(6)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    preview = await slack.answer((await slack.command("/broadcast promo_autumn tags:vip now")).key)
    first, second = await asyncio.gather(
        slack.click(preview, CONFIRM_ACTION), slack.click(preview, CONFIRM_ACTION)
    )
    answers = [await slack.answer(first.key), await slack.answer(second.key)]
    confirmed = [a for a in answers if "Confirmed by" in _text(a)]
    late = [a for a in answers if "was already confirmed: it is sending" in _text(a)]
    assert len(confirmed) == len(late) == 1
    assert confirmed[0]["replace_original"] is True  # the preview becomes who confirmed it
    assert late[0]["replace_original"] is False  # the second click is told privately
    await live.settle()
    assert live.sends_to() == dict.fromkeys(numbers, 1)
    with live.herald.database.connection_context():
        starts = AuditLog.select().where(AuditLog.action == "broadcast.start").count()
    assert starts == 1


@pytest.mark.parametrize("how", ["bad signature", "stale timestamp", "no signature"])
async def test_a_forged_or_replayed_request_is_refused_and_changes_nothing(
    slack: SlackWorld, how: str
) -> None:
    seed_contacts(slack.live.herald, [(p, ["vip"]) for p in phones(2)])
    before = _state(slack)
    body, key = slack.command_body("/broadcast promo_autumn tags:vip now")
    kind = "application/x-www-form-urlencoded"
    if how == "bad signature":
        answered = await slack.post(body, kind, secret="not-the-signing-secret")
    elif how == "stale timestamp":
        answered = await slack.post(body, kind, timestamp=int(time.time()) - 6 * 60)
    else:
        async with slack.live.client.post(
            "/slack/events", data=body, headers={"Content-Type": kind}
        ) as response:
            answered_status = response.status
        assert answered_status == 401
        answered = None
    if answered is not None:
        assert answered.status == 401
    await asyncio.sleep(0.2)  # anything a listener might have started would have shown by now
    assert slack.fake.answered(key) == []
    assert slack.fake.calls == []
    assert _state(slack) == before


@pytest.mark.parametrize(
    ("command", "opening"),
    [
        ("/broadcast", "Send an approved template to every opted-in contact"),
        ("/sequence", "Drip sequences: a trigger, then messages"),
        ("/contacts", "Contacts are keyed by their phone number"),
        ("/templates", "Templates are approved by Meta"),
        ("/stats", "Delivery numbers for a period"),
    ],
)
async def test_every_command_has_help_for_anyone(slack: SlackWorld, command: str, opening: str) -> None:
    answer = await slack.answer((await slack.command(f"{command} help", user=READER)).key)
    assert answer["blocks"][0]["text"]["text"].startswith(opening)


async def test_a_mistyped_template_gets_a_suggestion_and_the_usage(slack: SlackWorld) -> None:
    seed_contacts(slack.live.herald, [(phones(1)[0], ["vip"])])
    answer = await slack.answer((await slack.command("/broadcast promo_autum tags:vip now")).key)
    text = _text(answer)
    assert "Did you mean `promo_autumn`?" in text
    assert "Usage: broadcast &lt;template&gt;" in text  # escaped for mrkdwn
    assert _state(slack)[0] == []


async def test_slack_rate_limits_are_waited_out(slack: SlackWorld) -> None:
    seed_contacts(slack.live.herald, [(p, ["vip"]) for p in phones(2)])
    slack.fake.rate_limit("chat.postMessage", retry_after=0)
    preview = await slack.answer((await slack.command("/broadcast promo_autumn tags:vip now")).key)
    await slack.answer((await slack.click(preview, CONFIRM_ACTION)).key)
    await slack.live.settle()
    await slack.fake.wait(lambda: len(slack.fake.of("chat.postMessage")) == 2)  # a 429, then the post
    await slack.idle()
    assert len(slack.fake.messages) == 1


async def test_url_verification_and_ssl_check_are_answered(slack: SlackWorld) -> None:
    answered = await slack.post(
        '{"type": "url_verification", "challenge": "c-123", "token": "t"}', "application/json"
    )
    assert (answered.status, answered.body) == (200, '{"challenge": "c-123"}')
    answered = await slack.post("ssl_check=1&token=t", "application/x-www-form-urlencoded")
    assert answered.status == 200
