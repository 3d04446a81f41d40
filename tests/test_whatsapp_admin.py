"""Admins run Herald by messaging the business number: signed inbound webhooks in, replies at the fake."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from storage.models import AuditLog, Broadcast, Contact, InboundMessage
from tests.helpers import phones, seed_contacts
from tests.live import Live

ADMIN = "+919812345678"
OTHER_ADMIN = "+919812345679"
STRANGER = "+447911999999"


@pytest.fixture
def live_overrides() -> dict[str, Any]:
    return {"whatsapp_admins": [f"{ADMIN}=Asia/Kolkata", OTHER_ADMIN], "timezone": "Europe/London"}


def replies_to(live: Live, phone: str) -> list[str]:
    return [m.payload["text"]["body"] for m in live.cloud.accepted if m.type == "text" and m.to == phone]


async def say(live: Live, phone: str, text: str, *, count: int, sent: timedelta | None = None) -> str:
    """Send ``text`` from ``phone`` and wait for Herald's reply number ``count`` to that phone.

    ``sent``: the message's own timestamp, from now (a second later by default).
    """
    at = live.clock.now() + (timedelta(seconds=1) if sent is None else sent)
    assert await live.cloud.webhooks.post_inbound(live.webhook_url, phone, text, at=at) == 200
    await live.eventually(lambda: len(replies_to(live, phone)) >= count)
    return replies_to(live, phone)[count - 1]


async def test_a_broadcast_from_command_to_confirmation_to_summary(live: Live) -> None:
    numbers = phones(8)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    preview = await say(live, ADMIN, "broadcast thank_you tags:vip now", count=1)
    assert "Reply *YES* to send to 8 contacts now" in preview
    assert "•" in preview  # recipients are masked
    assert all(n not in preview for n in numbers)
    assert live.cloud.sends() == [
        r for r in live.cloud.sends() if r.json["type"] == "text"
    ]  # nothing sent yet

    done = await say(live, ADMIN, "yes", count=2)
    assert "#1" in done
    await live.settle()
    assert len([m for m in live.cloud.accepted if m.template == "thank_you"]) == 8
    await live.cloud.webhooks.deliver_statuses(
        live.webhook_url, wamids=[m.wamid for m in live.cloud.accepted if m.template], until="read"
    )
    await live.eventually(lambda: Broadcast.get_by_id(1).status == "completed")
    await live.settle()
    summary = await live.eventually(lambda: [r for r in replies_to(live, ADMIN) if "completed" in r])
    assert "8" in summary[0]
    faces = live.herald.in_db(
        lambda: {(a.face, a.action) for a in AuditLog.select().where(AuditLog.face == "whatsapp")}
    )
    assert ("whatsapp", "broadcast.create") in faces
    assert ("whatsapp", "broadcast.start") in faces


async def test_a_scheduled_broadcast_is_read_in_the_admins_own_timezone(live: Live) -> None:
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(3)])
    preview = await say(live, ADMIN, "broadcast thank_you tags:vip at 2026-12-01 09:00", count=1)
    assert "Reply *YES* to send to 3 contacts at Tue 1 Dec 09:00 Asia/Kolkata (03:30 UTC)" in preview
    await say(live, ADMIN, "YES", count=2)
    status = live.herald.in_db(lambda: Broadcast.get_by_id(1).status)
    assert status == "scheduled"


async def test_a_time_the_admins_clocks_repeat_is_refused_and_nothing_waits_for_a_yes(live: Live) -> None:
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(3)])
    refused = await say(live, OTHER_ADMIN, "broadcast thank_you tags:vip at 2027-10-31 01:30", count=1)
    assert "happens twice in Europe/London: the clocks go back 1 hour then" in refused
    assert "Did you mean `2027-10-31 02:30`?" in refused
    assert "Reply *YES*" not in refused
    assert live.herald.in_db(lambda: Broadcast.select().count()) == 0


async def test_messages_from_anyone_else_are_never_commands(live: Live) -> None:
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(3)])
    at = live.clock.now() + timedelta(seconds=1)
    await live.cloud.webhooks.post_inbound(
        live.webhook_url, STRANGER, "broadcast thank_you tags:vip now", at=at
    )
    await live.cloud.webhooks.post_inbound(live.webhook_url, STRANGER, "yes", at=at)
    await live.eventually(
        lambda: InboundMessage.select().where(InboundMessage.phone == STRANGER).count() == 2
    )
    await live.settle()
    assert replies_to(live, STRANGER) == []
    assert live.herald.in_db(lambda: Broadcast.select().count()) == 0


async def test_a_yes_from_another_number_confirms_nothing(live: Live) -> None:
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(3)])
    await say(live, ADMIN, "broadcast thank_you tags:vip now", count=1)
    at = live.clock.now() + timedelta(seconds=2)
    await live.cloud.webhooks.post_inbound(live.webhook_url, STRANGER, "YES", at=at)
    other = await say(live, OTHER_ADMIN, "yes", count=1)
    assert "nothing here waiting for a yes" in other
    await live.settle()
    assert live.herald.in_db(lambda: Broadcast.get_by_id(1).status) == "draft"
    await say(live, ADMIN, "yes", count=2)
    assert live.herald.in_db(lambda: Broadcast.get_by_id(1).status) == "sending"


async def test_an_expired_confirmation_is_refused_and_nothing_is_sent(live: Live) -> None:
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(3)])
    await say(live, ADMIN, "broadcast thank_you tags:vip now", count=1)
    live.clock.advance(minutes=11)
    expired = await say(live, ADMIN, "YES", count=2)
    assert "expired" in expired
    await live.settle()
    assert [m for m in live.cloud.accepted if m.template] == []
    assert live.herald.in_db(lambda: Broadcast.get_by_id(1).status) != "sending"


async def test_a_yes_sent_before_the_question_confirms_nothing_and_the_question_stays(live: Live) -> None:
    """A late or redelivered YES (written for something else, minutes earlier) arriving now."""
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(3)])
    await say(live, ADMIN, "broadcast thank_you tags:vip now", count=1)  # asked at 08:00:00 UTC
    stale = await say(live, ADMIN, "YES", count=2, sent=-timedelta(minutes=5))
    assert "That YES was sent at 13:25:00, before the question (asked at 13:30:00)" in stale  # Kolkata
    await live.settle()
    assert [m for m in live.cloud.accepted if m.template] == []
    assert live.herald.in_db(lambda: Broadcast.get_by_id(1).status) == "draft"
    late = await say(live, ADMIN, "YES", count=3, sent=timedelta(minutes=9, seconds=59))
    assert "#1" in late
    assert live.herald.in_db(lambda: Broadcast.get_by_id(1).status) == "sending"


async def test_a_yes_stamped_more_than_ten_minutes_after_the_question_confirms_nothing(live: Live) -> None:
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(3)])
    await say(live, ADMIN, "broadcast thank_you tags:vip now", count=1)
    expired = await say(live, ADMIN, "yes", count=2, sent=timedelta(minutes=10, seconds=1))
    assert "expired" in expired
    await live.settle()
    assert [m for m in live.cloud.accepted if m.template] == []
    assert live.herald.in_db(lambda: Broadcast.get_by_id(1).status) == "cancelled"


async def test_a_yes_in_the_same_second_as_the_question_counts(live: Live) -> None:
    """WhatsApp stamps whole seconds: the question asked at 08:00:00.4 is answered at 08:00:00."""
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(3)])
    live.clock.advance(seconds=0.4)
    await say(live, ADMIN, "broadcast thank_you tags:vip now", count=1, sent=timedelta(0))
    done = await say(live, ADMIN, "yes", count=2, sent=-timedelta(seconds=0.4))
    assert "#1" in done
    assert live.herald.in_db(lambda: Broadcast.get_by_id(1).status) == "sending"


async def test_anything_but_yes_cancels(live: Live) -> None:
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(3)])
    await say(live, ADMIN, "broadcast thank_you tags:vip now", count=1)
    cancelled = await say(live, ADMIN, "hmm, not yet", count=2)
    assert "Cancelled; nothing was sent" in cancelled
    late_yes = await say(live, ADMIN, "yes", count=3)
    assert "nothing here waiting for a yes" in late_yes
    await live.settle()
    assert [m for m in live.cloud.accepted if m.template] == []


async def test_a_change_that_is_not_a_broadcast_is_confirmed_too(live: Live) -> None:
    number = phones(1)[0]
    seed_contacts(live.herald, [(number, ["vip"])])
    asked = await say(live, ADMIN, f"contacts optout {number}", count=1)
    assert "Reply *YES* to run" in asked
    assert number not in asked
    assert live.herald.in_db(lambda: Contact.get(Contact.phone == number).opted_in)
    await say(live, ADMIN, "yes", count=2)
    assert not live.herald.in_db(lambda: Contact.get(Contact.phone == number).opted_in)


async def test_plain_words_are_understood_and_a_change_still_waits_for_yes(live: Live) -> None:
    number = phones(1)[0]
    seed_contacts(live.herald, [(number, ["vip"])])
    card = await say(live, ADMIN, f"who is {number}?", count=1)
    assert "Person 0 · +44••••••0000 · vip · opted in" in card
    asked = await say(live, ADMIN, f"please opt out {number}", count=2)
    assert "Opt out +44••••••0000?" in asked
    assert "Reply *YES* to run `contacts optout +44••••••0000`" in asked
    assert number not in asked
    assert live.herald.in_db(lambda: Contact.get(Contact.phone == number).opted_in)
    await say(live, ADMIN, "YES", count=3)
    assert not live.herald.in_db(lambda: Contact.get(Contact.phone == number).opted_in)


async def test_a_question_back_over_whatsapp_takes_the_answer(live: Live) -> None:
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(3)])
    asked = await say(live, ADMIN, "send thank_you tomorrow at 9am", count=1)
    assert "Who should get `thank_you`?" in asked
    preview = await say(live, ADMIN, "vip", count=2)
    assert "Reply *YES* to send to 3 contacts at Tue 1 Dec 09:00 Asia/Kolkata (03:30 UTC)" in preview


async def test_a_malformed_command_is_answered_with_usage_and_a_suggestion(live: Live) -> None:
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(2)])
    typo = await say(live, ADMIN, "broadcast thank_yu tags:vip now", count=1)
    assert "Did you mean `thank_you`?" in typo
    assert "Usage:" in typo
    unknown = await say(live, ADMIN, "broadcst list", count=2)
    assert "broadcast" in unknown
    helped = await say(live, ADMIN, "help", count=3)
    assert "broadcast" in helped


async def test_long_answers_are_split_at_whatsapps_limit() -> None:
    from bot.faces.whatsapp import TEXT_LIMIT, split

    body = "\n".join(f"line {i} " + "x" * 90 for i in range(200))
    parts = split(body)
    assert len(parts) > 1
    assert all(len(p) <= TEXT_LIMIT for p in parts)
    assert "\n".join(parts) == body
    assert split("y" * (TEXT_LIMIT * 2 + 5))[2] == "y" * 5


async def test_a_breaker_alert_asks_the_admin_to_reply_resume_and_only_an_admin_can(live: Live) -> None:
    import orjson

    from engine.whatsapp.simulate import webhook

    numbers = phones(6)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    await say(live, ADMIN, "broadcast promo_autumn tags:vip now", count=1)
    await say(live, ADMIN, "yes", count=2)
    flagged = webhook(
        "phone_number_quality_update",
        {"display_phone_number": "15550001234", "event": "FLAGGED", "current_limit": "TIER_2K"},
        business_account_id=live.cloud.business_account_id,
    )
    assert await live.cloud.webhooks.post_webhook(live.webhook_url, orjson.dumps(flagged)) == 200
    alert = (await live.eventually(lambda: [r for r in replies_to(live, ADMIN) if "Circuit breaker" in r]))[0]
    assert "quality FLAGGED" in alert
    assert "Reply *RESUME*" in alert
    assert live.herald.in_db(lambda: Broadcast.get_by_id(1).status) == "paused"

    # from anyone else, RESUME is only a message
    at = live.clock.now() + timedelta(seconds=1)
    assert await live.cloud.webhooks.post_inbound(live.webhook_url, STRANGER, "RESUME", at=at) == 200
    await live.webhooks_applied()
    assert live.herald.in_db(lambda: Broadcast.get_by_id(1).status) == "paused"
    assert replies_to(live, STRANGER) == []

    answer = await say(live, ADMIN, "RESUME", count=len(replies_to(live, ADMIN)) + 1)
    assert answer == "Resumed: “promo_autumn → vip”."
    await live.settle()
    assert live.herald.in_db(lambda: Broadcast.get_by_id(1).status) == "completed"
    assert len([m for m in live.cloud.accepted if m.template == "promo_autumn"]) == 6
    nothing = "The circuit breaker holds no broadcast; nothing was resumed."
    at = live.clock.now() + timedelta(seconds=2)
    assert await live.cloud.webhooks.post_inbound(live.webhook_url, ADMIN, "resume", at=at) == 200
    await live.eventually(lambda: nothing in replies_to(live, ADMIN))
