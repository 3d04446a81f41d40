"""Sending: a broadcast from start to funnel against the fake Cloud API, in direct mode, on both engines."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from engine.tick import TickReport
from storage import inbox
from storage.models import AuditLog, Broadcast, Contact, OutboundMessage
from tests.helpers import phones, seed_contacts
from tests.live import Live


async def _broadcast(live: Live, template: str, tags: list[str], **extra: Any) -> dict[str, Any]:
    status, body = await live.api.post("/api/broadcasts", {"template": template, "tags": tags, **extra})
    assert status == 201, body
    return body


def _states(broadcast_id: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for m in OutboundMessage.select().where(OutboundMessage.broadcast == broadcast_id):
        counts[m.state] = counts.get(m.state, 0) + 1
    return counts


def _moves(broadcast_id: int) -> list[tuple[str, str, str]]:
    """The broadcast's audit trail: (face, actor, action), oldest first."""
    rows = AuditLog.select().where(AuditLog.target == str(broadcast_id)).order_by(AuditLog.id)
    return [(a.face, a.actor, a.action) for a in rows]


async def test_a_broadcast_reaches_every_recipient_once_and_the_funnel_fills(live: Live) -> None:
    numbers = phones(30)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    b = await _broadcast(live, "promo_autumn", ["vip"], schedule="now")
    await live.settle()

    assert live.sends_to() == dict.fromkeys(numbers, 1)
    sent = live.cloud.sends()
    assert all(r.json["template"]["name"] == "promo_autumn" for r in sent)
    first = sent[0].json
    assert first["template"]["components"][0]["parameters"][0]["parameter_name"] == "first_name"
    assert first["biz_opaque_callback_data"].isdigit()
    funnel = await live.funnel(b["id"])
    assert (funnel["total"], funnel["sent"], funnel["pending"]) == (30, 30, 0)

    # statuses: duplicated, shuffled, some read without delivered, one failure
    wamids = [m.wamid for m in live.cloud.accepted]
    answers = await live.cloud.webhooks.deliver_statuses(
        live.webhook_url,
        wamids=wamids,
        failures={wamids[0]: 131026},
        read_without_delivered=wamids[1:4],
        duplicates=0.3,
        shuffle=True,
        per_body=7,
    )
    assert set(answers) == {200}
    await live.eventually(
        lambda: OutboundMessage.select().where(OutboundMessage.read_at.is_null(False)).count() == 29
    )
    funnel = await live.funnel(b["id"])
    assert funnel["sent"] == 30
    assert funnel["delivered"] == 29  # read implies delivered
    assert funnel["read"] == 29
    assert funnel["failed"] == 1
    assert funnel["failed_reasons"] == {"131026 Message undeliverable": 1}
    got = await live.api.get(f"/api/broadcasts/{b['id']}")
    assert got[1]["status"] == "completed"
    assert len(live.notes.of("completed")) == 1


async def test_the_frequency_cap_holds_across_two_concurrent_marketing_broadcasts(
    live: Live,
) -> None:
    numbers = phones(40)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    first = await _broadcast(live, "promo_autumn", ["vip"])
    second = await _broadcast(live, "last_chance", ["vip"])
    utility = await _broadcast(live, "thank_you", ["vip"])
    await asyncio.gather(
        *[live.api.post(f"/api/broadcasts/{b['id']}/send") for b in (first, second, utility)]
    )
    await live.settle()

    marketing: dict[str, int] = {}
    for message in live.cloud.accepted:
        if message.template in ("promo_autumn", "last_chance"):
            marketing[message.to] = marketing.get(message.to, 0) + 1
    assert marketing == dict.fromkeys(numbers, 1)  # one marketing message each, whichever won
    utility_sends = [m for m in live.cloud.accepted if m.template == "thank_you"]
    assert len(utility_sends) == 40  # never capped
    f1, f2 = await live.funnel(first["id"]), await live.funnel(second["id"])
    assert f1["sent"] + f2["sent"] == 40
    assert f1["skipped"].get("frequency_cap", 0) + f2["skipped"].get("frequency_cap", 0) == 40

    # 24 hours later the cap has cleared
    live.clock.advance(hours=24, seconds=1)
    again = await _broadcast(live, "promo_autumn", ["vip"], schedule="now")
    await live.settle()
    assert (await live.funnel(again["id"]))["sent"] == 40


async def test_a_permanent_failure_does_not_consume_the_cap(live: Live) -> None:
    numbers = phones(3)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    live.cloud.fail(131026, to=numbers[0])
    b = await _broadcast(live, "promo_autumn", ["vip"], schedule="now")
    await live.settle()
    funnel = await live.funnel(b["id"])
    assert (funnel["sent"], funnel["failed"]) == (2, 1)
    assert funnel["failed_reasons"] == {"131026 Message undeliverable": 1}
    with live.herald.database.connection_context():
        capped = {c.phone: c.last_marketing_at for c in Contact.select()}
    assert capped[numbers[0]] is None
    assert capped[numbers[1]] is not None
    retry = await _broadcast(live, "last_chance", ["vip"], schedule="now")
    await live.settle()
    assert (await live.funnel(retry["id"]))["sent"] == 1  # only the one whose cap is free


@pytest.mark.parametrize(
    ("code", "family"),
    [(130429, "throttled"), (131056, "pair rate"), (131000, "retryable"), (2, "retryable")],
)
async def test_retryable_errors_are_retried_and_the_recipient_is_sent_once(
    live: Live, code: int, family: str
) -> None:
    numbers = phones(5)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    live.cloud.fail(code, to=numbers[2], times=2)
    b = await _broadcast(live, "thank_you", ["vip"], schedule="now")
    await live.settle()
    with live.herald.database.connection_context():
        row = OutboundMessage.get(OutboundMessage.contact == Contact.get(Contact.phone == numbers[2]).id)
    assert row.state == "queued", family
    assert row.error_code == code
    for _ in range(6):
        live.clock.advance(minutes=5)
        await live.settle()
    assert live.sends_to() == dict.fromkeys(numbers, 1)
    funnel = await live.funnel(b["id"])
    assert (funnel["sent"], funnel["failed"], funnel["pending"]) == (5, 0, 0)


async def test_131049_waits_24_hours_at_most_twice_then_fails_with_its_reason(live: Live) -> None:
    numbers = phones(2)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    live.cloud.fail(131049, to=numbers[0], times=3)
    b = await _broadcast(live, "promo_autumn", ["vip"], schedule="now")
    await live.settle()

    def tries() -> int:
        return len([r for r in live.cloud.sends() if r.json["to"] == numbers[0]])

    for wait in (1, 2):
        funnel = await live.funnel(b["id"])
        assert (funnel["pending"], funnel["held"], funnel["failed"]) == (1, {"retry_131049": 1}, 0)
        live.clock.advance(hours=23, minutes=59)
        await live.settle()
        assert tries() == wait  # never sooner than 24 hours (Meta: sooner makes it worse)
        live.clock.advance(minutes=2)
        await live.settle()
        assert tries() == wait + 1
    funnel = await live.funnel(b["id"])
    assert (funnel["sent"], funnel["failed"], funnel["pending"], funnel["held"]) == (1, 1, 0, {})
    assert funnel["failed_reasons"] == {"131049 Per-user marketing limit": 1}
    _, got = await live.api.get(f"/api/broadcasts/{b['id']}")
    assert got["status"] == "completed"


async def test_a_recipient_past_the_per_user_limit_is_sent_after_the_wait(live: Live) -> None:
    numbers = phones(2)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    live.cloud.fail(131049, to=numbers[0], times=1)
    b = await _broadcast(live, "promo_autumn", ["vip"], schedule="now")
    await live.settle()
    live.clock.advance(hours=24, minutes=1)
    await live.settle()
    assert live.sends_to() == dict.fromkeys(numbers, 1)  # accepted once each (one refusal before)
    funnel = await live.funnel(b["id"])
    assert (funnel["sent"], funnel["failed"], funnel["held"]) == (2, 0, {})


async def test_bad_credentials_pause_the_broadcast_and_alert(live: Live) -> None:
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(10)])
    live.cloud.fail(190, times=None)
    b = await _broadcast(live, "thank_you", ["vip"], schedule="now")
    await live.settle()
    _, got = await live.api.get(f"/api/broadcasts/{b['id']}")
    assert got["status"] == "paused"
    assert "WHATSAPP_TOKEN" in got["status_reason"]
    assert [a["kind"] for a in live.notes.of("alert")] == ["credentials"]
    assert got["funnel"]["failed"] == 0  # nobody is failed for our token's fault
    live.cloud.clear()
    await live.api.post(f"/api/broadcasts/{b['id']}/resume")
    await live.settle()
    assert (await live.funnel(b["id"]))["sent"] == 10
    with live.herald.database.connection_context():
        assert _moves(b["id"]) == [  # every move is audited, Meta's and the scheduler's too
            ("api", "api", "broadcast.create"),
            ("api", "api", "broadcast.start"),
            ("system", "meta", "broadcast.pause"),
            ("api", "api", "broadcast.resume"),
            ("system", "scheduler", "broadcast.complete"),
        ]


async def test_a_dropped_answer_is_reconciled_by_the_status_echo_not_resent(live: Live) -> None:
    numbers = phones(4)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    live.cloud.drop(to=numbers[1])
    live.cloud.drop(to=numbers[2], mode="truncate")
    b = await _broadcast(live, "thank_you", ["vip"], schedule="now")
    await live.settle()
    assert (await live.funnel(b["id"]))["pending"] == 2  # Meta may have them: wait for an echo
    echo = [m for m in live.cloud.accepted if m.to == numbers[1]]
    await live.cloud.webhooks.post_statuses(live.webhook_url, [live.cloud.webhooks.status(echo[0], "sent")])
    await live.eventually(lambda: _states(b["id"]).get("sending", 0) == 1)
    live.clock.advance(minutes=11)  # past the reconciliation wait, no echo for numbers[2]
    await live.settle()
    counts = live.sends_to()
    assert counts[numbers[1]] == 1  # the echo proved it went: never resent
    assert counts[numbers[2]] == 2  # no echo within the wait: sent again, as documented
    funnel = await live.funnel(b["id"])
    assert (funnel["sent"], funnel["pending"]) == (4, 0)


async def test_an_echo_stored_but_not_applied_yet_still_stops_the_resend(live: Live) -> None:
    """The receiver stored the echo but has not applied it (another process is applying it, or
    a deadlock left it for the retry): the watchdog waits for it instead of sending again."""
    numbers = phones(2)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    live.cloud.drop(to=numbers[1])
    b = await _broadcast(live, "thank_you", ["vip"], schedule="now")
    await live.settle()
    echo = [live.cloud.webhooks.status(m, "sent") for m in live.cloud.accepted if m.to == numbers[1]]
    with live.herald.database.connection_context():
        inbox.put(live.herald.database, [live.cloud.webhooks.body(echo)], live.clock.now())
    live.clock.advance(minutes=11)  # past the reconciliation wait
    await asyncio.to_thread(live.herald.in_db, live.herald.tick.watchdog, TickReport())
    assert await asyncio.to_thread(live.herald.in_db, _states, b["id"]) == {"sent": 1, "sending": 1}
    await live.settle()  # the echo is applied, and nothing is sent again
    assert live.sends_to() == dict.fromkeys(numbers, 1)
    assert (await live.funnel(b["id"]))["sent"] == 2


async def test_pause_mid_send_stops_quickly_and_resume_sends_the_rest_once(live: Live) -> None:
    live.herald.sender.limiter.rate = 40.0  # 100 recipients take 2.5 s
    live.herald.sender.limiter._interval = 1 / 40.0  # type: ignore[attr-defined]
    numbers = phones(100)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    b = await _broadcast(live, "thank_you", ["vip"], schedule="now")
    ticking = asyncio.create_task(live.tick())
    await live.eventually(lambda: len(live.cloud.sends()) >= 20)
    status, _ = await live.api.post(f"/api/broadcasts/{b['id']}/pause")
    assert status == 200
    await ticking
    partial = len(live.cloud.sends())
    assert partial < 100
    await live.settle()
    assert len(live.cloud.sends()) == partial  # nothing goes while paused
    await live.api.post(f"/api/broadcasts/{b['id']}/resume")
    await live.settle()
    assert live.sends_to() == dict.fromkeys(numbers, 1)


async def test_cancel_mid_send_skips_the_rest_with_a_reason(live: Live) -> None:
    live.herald.sender.limiter.rate = 40.0
    live.herald.sender.limiter._interval = 1 / 40.0  # type: ignore[attr-defined]
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(100)])
    b = await _broadcast(live, "thank_you", ["vip"], schedule="now")
    ticking = asyncio.create_task(live.tick())
    await live.eventually(lambda: len(live.cloud.sends()) >= 20)
    await live.api.post(f"/api/broadcasts/{b['id']}/cancel")
    await ticking
    await live.settle()
    funnel = await live.funnel(b["id"])
    assert funnel["pending"] == 0
    assert funnel["sent"] + funnel["skipped"]["cancelled"] == 100
    assert funnel["sent"] == len(live.cloud.sends())


async def test_opted_out_after_the_audience_was_taken_is_skipped_with_a_reason(live: Live) -> None:
    ids = seed_contacts(live.herald, [(p, ["vip"]) for p in phones(5)])
    b = await _broadcast(live, "thank_you", ["vip"])
    await live.api.post(f"/api/broadcasts/{b['id']}/send")
    await live.api.post(f"/api/contacts/{ids[0]}/optout")
    await live.api.delete(f"/api/contacts/{ids[1]}")
    await live.settle()
    funnel = await live.funnel(b["id"])
    assert funnel["skipped"] == {"opted_out": 1, "deleted": 1}
    assert funnel["sent"] == 3


async def test_a_contact_missing_a_template_parameter_is_skipped_alone(live: Live) -> None:
    numbers = phones(3)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    await live.api.post(
        "/api/contacts", {"phone": numbers[0], "attributes": {"order": "HX-1", "state": "shipped"}}
    )
    await live.api.post("/api/contacts", {"phone": numbers[1], "attributes": {"order": "HX-2"}})
    b = await _broadcast(
        live,
        "order_update",
        ["vip"],
        schedule="now",
        params=["{name}", "{order}", "{state}", "{order}"],
    )
    await live.settle()
    funnel = await live.funnel(b["id"])
    assert funnel["sent"] == 1
    assert sum(funnel["skipped"].values()) == 2
    body = live.cloud.sends()[0].json["template"]["components"]
    assert [p["text"] for p in body[0]["parameters"]] == ["Person 0", "HX-1", "shipped"]


async def test_a_scheduled_broadcast_fires_on_the_moved_clock_through_the_tick(live: Live) -> None:
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(5)])
    b = await _broadcast(live, "thank_you", ["vip"], schedule="2026-11-30T09:00", timezone="Europe/London")
    await live.settle()
    assert live.cloud.sends() == []
    live.clock.advance(hours=1)
    await live.settle()
    assert len(live.cloud.sends()) == 5
    with live.herald.database.connection_context():
        assert Broadcast.get_by_id(b["id"]).status == "completed"
