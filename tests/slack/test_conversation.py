"""Mentions and DMs: natural phrasings, follow-ups in the same thread, questions back, yes and no."""

from __future__ import annotations

from typing import Any

from storage.models import Broadcast
from tests.helpers import phones, seed_contacts
from tests.slack.conftest import ADMIN, CHANNEL, READER, SlackWorld

DM = "D0ADMIN"


def _text(message: dict[str, Any]) -> str:
    return str(message.get("blocks") or message.get("text"))


def _replies(slack: SlackWorld, channel: str) -> list[dict[str, Any]]:
    return slack.posts(channel)


async def _reply(slack: SlackWorld, channel: str, count: int) -> dict[str, Any]:
    await slack.fake.wait(lambda: len(_replies(slack, channel)) >= count)
    return _replies(slack, channel)[count - 1]


def _broadcasts(slack: SlackWorld) -> list[tuple[str, str | None]]:
    with slack.live.herald.database.connection_context():
        return [
            (b.status, b.scheduled_at.isoformat() if b.scheduled_at else None)
            for b in Broadcast.select().order_by(Broadcast.id)
        ]


async def test_a_dm_previews_changes_the_time_and_confirms_on_yes(slack: SlackWorld) -> None:
    seed_contacts(slack.live.herald, [(p, ["vip"]) for p in phones(4)])
    await slack.dm("send promo_autumn to vip tomorrow at 9")
    first = await _reply(slack, DM, 1)
    assert "Tue 1 Dec 09:00 UTC" in _text(first)
    assert any(b["type"] == "actions" for b in first["blocks"])

    await slack.dm("make it 10am instead")
    second = await _reply(slack, DM, 2)
    assert "Tue 1 Dec 10:00 UTC" in _text(second)
    retired = await slack.fake.wait(lambda: slack.fake.of("chat.update"))
    assert "changed; the new one is below" in retired[0].args["text"]  # no stale Confirm left behind

    await slack.dm("yes")
    third = await _reply(slack, DM, 3)
    assert f"Confirmed by <@{ADMIN}>" in _text(third)
    assert "scheduled for Tue 1 Dec 10:00 UTC" in _text(third)
    assert _broadcasts(slack) == [("scheduled", "2026-12-01T10:00:00+00:00")]  # one broadcast, edited


async def test_a_change_sent_before_the_preview_arrives_still_retires_that_preview(
    slack: SlackWorld,
) -> None:
    """The second message is sent without waiting for the first answer: the turns of one
    conversation run one after the other, so the first preview is retired, not left with a
    live Confirm beside the new one."""
    seed_contacts(slack.live.herald, [(p, ["vip"]) for p in phones(4)])
    await slack.dm("send promo_autumn to vip tomorrow at 9")
    await slack.dm("make it 10am instead")
    first, second = await _reply(slack, DM, 1), await _reply(slack, DM, 2)
    assert "Tue 1 Dec 09:00 UTC" in _text(first)
    assert "Tue 1 Dec 10:00 UTC" in _text(second)
    await slack.fake.wait(lambda: slack.fake.of("chat.update"))
    shown = [m for (channel, _), m in slack.fake.messages.items() if channel == DM]  # in posting order
    assert [m["edits"] for m in shown] == [1, 0]  # the first preview retired, the second live
    assert "changed; the new one is below" in shown[0]["text"]
    assert "Tue 1 Dec 10:00 UTC" in _text(shown[1])
    assert _broadcasts(slack) == [("draft", "2026-12-01T10:00:00+00:00")]


async def test_a_mention_asks_back_in_its_thread_and_takes_the_answer(slack: SlackWorld) -> None:
    seed_contacts(slack.live.herald, [(p, ["vip"]) for p in phones(3)])
    await slack.mention("send promo_autumn tomorrow at 9")
    question = await _reply(slack, CHANNEL, 1)
    root = question["thread_ts"]
    assert "Who should get `promo_autumn`?" in _text(question)

    await slack.mention("vip", thread=root)
    preview = await _reply(slack, CHANNEL, 2)
    assert preview["thread_ts"] == root
    assert "3 will get it" in _text(preview)
    await slack.mention("no", thread=root)
    dropped = await _reply(slack, CHANNEL, 3)
    assert "dropped; nothing was sent" in _text(dropped)
    assert _broadcasts(slack) == [("cancelled", "2026-12-01T09:00:00+00:00")]


async def test_a_non_admin_mention_is_refused_only_to_them(slack: SlackWorld) -> None:
    seed_contacts(slack.live.herald, [(phones(1)[0], ["vip"])])
    await slack.mention("send promo_autumn to vip now", user=READER)
    refused = await slack.fake.wait(lambda: slack.fake.of("chat.postEphemeral"))
    assert refused[0].args["user"] == READER
    assert "Only Herald admins can" in _text(refused[0].args)
    assert _replies(slack, CHANNEL) == []
    assert _broadcasts(slack) == []


async def test_a_reader_can_ask_how_things_went(slack: SlackWorld) -> None:
    seed_contacts(slack.live.herald, [(p, ["vip"]) for p in phones(3)])
    await slack.dm("how many vip contacts are there?", user=READER, channel="D0READER")
    answer = await _reply(slack, "D0READER", 1)
    assert "3 contacts with vip can be messaged" in _text(answer)


async def test_bot_messages_edits_and_redeliveries_are_not_answered(slack: SlackWorld) -> None:
    await slack.event(
        {"type": "message", "channel_type": "im", "bot_id": "B1", "text": "yes", "channel": DM, "ts": "1.1"}
    )
    await slack.event(
        {"type": "message", "subtype": "message_changed", "channel_type": "im", "channel": DM, "ts": "1.2"}
    )
    event = {
        "type": "message",
        "channel_type": "im",
        "user": ADMIN,
        "text": "help",
        "channel": DM,
        "ts": "1.3",
    }
    await slack.event(event)
    await slack.event(event)  # Slack retries a delivery it thinks was lost
    await _reply(slack, DM, 1)
    await slack.dm("help")
    await _reply(slack, DM, 2)
    assert len(_replies(slack, DM)) == 2


async def test_a_change_in_plain_words_is_shown_back_and_done_on_yes(slack: SlackWorld) -> None:
    number = phones(1)[0]
    seed_contacts(slack.live.herald, [(number, ["vip"])])
    spaced = f"{number[:3]} {number[3:8]} {number[8:]}"
    await slack.dm(f"can you tag {spaced} as gold please")
    asked = await _reply(slack, DM, 1)
    assert "Tag +44••••••0000 with `gold`?" in _text(asked)
    assert number not in str(asked)
    assert _tags(slack, number) == ["vip"]
    await slack.dm("yes")
    done = await _reply(slack, DM, 2)
    assert "Tagged +44••••••0000: gold." in _text(done)
    assert _tags(slack, number) == ["gold", "vip"]


async def test_a_reader_asks_about_a_contact_and_may_not_change_it(slack: SlackWorld) -> None:
    number = phones(1)[0]
    seed_contacts(slack.live.herald, [(number, ["vip"])])
    await slack.dm(f"who is {number}?", user=READER, channel="D0READER")
    card = await _reply(slack, "D0READER", 1)
    assert "Person 0 · +44••••••0000 · vip · opted in" in _text(card)
    await slack.mention(f"opt out {number}", user=READER)
    refused = await slack.fake.wait(lambda: slack.fake.of("chat.postEphemeral"))
    assert "Only Herald admins can" in _text(refused[0].args)
    assert _tags(slack, number) == ["vip"]


async def test_a_time_with_a_zone_in_words_is_previewed_in_that_zone(slack: SlackWorld) -> None:
    seed_contacts(slack.live.herald, [(p, ["vip"]) for p in phones(2)])
    await slack.dm("send promo_autumn to vip tomorrow 9am IST")
    preview = await _reply(slack, DM, 1)
    assert "Tue 1 Dec 09:00 Asia/Kolkata (03:30 UTC)" in _text(preview)
    await slack.dm("send promo_autumn to vip tomorrow 9am CST")
    asked = await _reply(slack, DM, 2)
    assert "`CST` is used by more than one zone" in _text(asked)


def _tags(slack: SlackWorld, number: str) -> list[str]:
    herald = slack.live.herald
    return list(herald.in_db(lambda: herald.contacts.find(number)["tags"]))
