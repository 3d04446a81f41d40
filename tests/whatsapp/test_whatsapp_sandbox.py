"""The sandbox: Meta's answers and status webhooks in-process, on an injected clock."""

from __future__ import annotations

import asyncio
import base64
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from engine.clock import ManualClock, SystemClock
from engine.templates import parameters_of
from engine.whatsapp.errors import Permanent
from engine.whatsapp.messages import TemplateMessage, TextMessage
from engine.whatsapp.sandbox import SAMPLE_TEMPLATES, Sandbox, Timing
from engine.whatsapp.webhook import (
    Event,
    InboundEvent,
    MarketingPreferenceEvent,
    StatusEvent,
    parse,
    verify_signature,
)
from tests.helpers import build_components

START = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
PHONE = "+919812345678"


class Inbox:
    """The webhook path under test: every body is parsed exactly as a real delivery."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.events: list[Event] = []

    async def __call__(self, body: bytes) -> None:
        self.bodies.append(body)
        self.events.extend(parse(body))

    def statuses(self) -> list[StatusEvent]:
        return [e for e in self.events if isinstance(e, StatusEvent)]


def message(
    name: str = "welcome_offer", to: str = PHONE, callback: str = "17", **attributes: Any
) -> TemplateMessage:
    template = next(t for t in SAMPLE_TEMPLATES if t["name"] == name)
    components = build_components(
        parameters_of(template["components"]),
        template["parameter_format"],
        "Asha Rao",
        attributes,
        {"order_update": ["{name}", "HX-1", "shipped", "HX-1"]}.get(name),
    )
    return TemplateMessage(to, name, "en", components, callback)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def sandbox(clock: ManualClock, inbox: Inbox) -> Sandbox:
    return Sandbox(
        clock=clock,
        deliver=inbox,
        seed=7,
        failure_rate=0.0,
        read_rate=1.0,
        read_without_delivered_rate=0.0,
    )


async def test_a_send_returns_a_meta_shaped_wamid_holding_the_recipient(sandbox: Sandbox) -> None:
    wamid = await sandbox.send_template(message())

    assert wamid.startswith("wamid.")
    assert b"919812345678" in base64.b64decode(wamid.removeprefix("wamid."))


async def test_statuses_wait_for_the_clock_then_arrive_as_meta_bodies(
    sandbox: Sandbox, clock: ManualClock, inbox: Inbox
) -> None:
    wamid = await sandbox.send_template(message(callback="4711"))

    assert await sandbox.release_due() == 0
    assert inbox.bodies == []

    clock.advance(seconds=sandbox.timing.spread + sandbox.timing.delivered)
    assert await sandbox.release_due() == 2
    clock.advance(seconds=sandbox.timing.read)
    assert await sandbox.release_due() == 1

    assert [(s.wamid, s.status) for s in inbox.statuses()] == [
        (wamid, "sent"),
        (wamid, "delivered"),
        (wamid, "read"),
    ]
    assert all(s.callback == "4711" and s.recipient == PHONE for s in inbox.statuses())
    assert all(s.at > START for s in inbox.statuses())
    assert sandbox.pending == 0


async def test_a_body_can_be_signed_like_meta_signs_it(clock: ManualClock, inbox: Inbox) -> None:
    sandbox = Sandbox(clock=clock, deliver=inbox, app_secret="s3cret", failure_rate=0)
    await sandbox.send_template(message())

    await sandbox.flush()

    body = inbox.bodies[0]
    assert verify_signature(body, sandbox.signature(body), "s3cret")


@pytest.mark.parametrize(
    ("to", "code"),
    [
        ("919812345678", 100),  # no "+": Meta would guess a country
        ("+91981234", 131026),  # Herald's phone rules reject it
        ("+1555", 100),
    ],
)
async def test_invalid_recipients_are_refused_at_once(sandbox: Sandbox, to: str, code: int) -> None:
    with pytest.raises(Permanent) as caught:
        await sandbox.send_template(message(to=to))

    assert caught.value.error_code == code
    assert sandbox.pending == 0


async def test_an_unknown_template_or_wrong_parameters_are_refused_like_meta(
    sandbox: Sandbox,
) -> None:
    with pytest.raises(Permanent) as unknown:
        await sandbox.send_template(TemplateMessage(PHONE, "no_such_template", "en"))
    with pytest.raises(Permanent) as wrong_language:
        await sandbox.send_template(TemplateMessage(PHONE, "welcome_offer", "pt_BR"))
    with pytest.raises(Permanent) as no_parameters:
        await sandbox.send_template(TemplateMessage(PHONE, "welcome_offer", "en"))

    assert unknown.value.error_code == 132001
    assert wrong_language.value.error_code == 132001
    assert no_parameters.value.error_code == 132000


async def test_unreachable_numbers_are_accepted_and_then_fail_with_131026(
    clock: ManualClock, inbox: Inbox
) -> None:
    sandbox = Sandbox(clock=clock, deliver=inbox, failure_rate=0, unreachable={"+447911123456"})
    wamid = await sandbox.send_template(message(to="+447911123456"))

    await sandbox.flush()

    [status] = inbox.statuses()
    assert (status.wamid, status.status) == (wamid, "failed")
    assert status.errors[0].code == 131026
    assert status.errors[0].reason == "131026 Message undeliverable"


async def test_the_failure_rate_and_mix_hold_over_many_sends(clock: ManualClock, inbox: Inbox) -> None:
    sandbox = Sandbox(clock=clock, deliver=inbox, seed=3, failure_rate=0.3, batch_size=1000)
    for i in range(1000):
        await sandbox.send_template(message(to=f"+9198{i:08}"))
    for i in range(200):
        await sandbox.send_template(message("order_update", to=f"+9197{i:08}"))

    await sandbox.flush()

    failed = [s for s in inbox.statuses() if s.status == "failed"]
    marketing = Counter(s.errors[0].code for s in failed if s.recipient.startswith("+9198"))
    utility = Counter(s.errors[0].code for s in failed if s.recipient.startswith("+9197"))
    assert 0.25 < sum(marketing.values()) / 1000 < 0.35
    assert set(marketing) == {131026, 131049, 131050}
    assert set(utility) == {131026}  # the marketing limits never apply to UTILITY
    assert max(len(b) for b in inbox.bodies) < 3_000_000  # Meta's payload limit


async def test_some_reads_come_without_delivered(clock: ManualClock, inbox: Inbox) -> None:
    sandbox = Sandbox(
        clock=clock, deliver=inbox, failure_rate=0, read_rate=1.0, read_without_delivered_rate=0.5
    )
    for i in range(50):
        await sandbox.send_template(message(to=f"+9198{i:08}"))

    await sandbox.flush()

    by_wamid: dict[str, list[str]] = {}
    for status in inbox.statuses():
        by_wamid.setdefault(status.wamid, []).append(status.status)
    assert ["sent", "read"] in by_wamid.values()
    assert ["sent", "delivered", "read"] in by_wamid.values()


async def test_the_same_seed_and_calls_give_the_same_bodies() -> None:
    runs = []
    for _ in range(2):
        clock, inbox = ManualClock(START), Inbox()
        sandbox = Sandbox(clock=clock, deliver=inbox, seed=11, failure_rate=0.2)
        for i in range(20):
            await sandbox.send_template(message(to=f"+9198{i:08}"))
        clock.advance(minutes=5)
        await sandbox.release_due()
        runs.append(inbox.bodies)
    assert runs[0] == runs[1]


async def test_stopping_marketing_sends_the_preference_and_fails_later_marketing(
    sandbox: Sandbox, inbox: Inbox
) -> None:
    sandbox.set_marketing_preference(PHONE, "stop")
    await sandbox.send_template(message())
    await sandbox.send_template(message("thank_you"))

    await sandbox.flush()

    assert MarketingPreferenceEvent(PHONE, "stop", START) in inbox.events
    failed = [s for s in inbox.statuses() if s.status == "failed"]
    assert [s.errors[0].code for s in failed] == [131050]  # the UTILITY one went through


async def test_free_text_needs_the_window_the_recipient_opened(
    sandbox: Sandbox, clock: ManualClock, inbox: Inbox
) -> None:
    with pytest.raises(Permanent) as caught:
        await sandbox.send_text(TextMessage(PHONE, "hello"))
    assert caught.value.error_code == 131047

    sandbox.reply(PHONE, "STOP", name="Asha")
    assert await sandbox.send_text(TextMessage(PHONE, "You are unsubscribed."))
    clock.advance(hours=25)
    with pytest.raises(Permanent):
        await sandbox.send_text(TextMessage(PHONE, "still there?"))

    await sandbox.release_due()
    [reply] = [e for e in inbox.events if isinstance(e, InboundEvent)]
    assert (reply.phone, reply.text, reply.kind, reply.name) == (PHONE, "STOP", "text", "Asha")


async def test_a_quick_reply_tap_names_the_template_message(sandbox: Sandbox, inbox: Inbox) -> None:
    wamid = await sandbox.send_template(message())
    sandbox.reply(PHONE, "Stop promotions", context=wamid, button_payload="Stop promotions")

    await sandbox.release_due()

    [tap] = [e for e in inbox.events if isinstance(e, InboundEvent)]
    assert (tap.kind, tap.text, tap.context) == ("button", "Stop promotions", wamid)


async def test_events_wait_for_a_receiver_and_a_failed_delivery_is_retried(
    clock: ManualClock,
) -> None:
    sandbox = Sandbox(clock=clock, failure_rate=0, read_rate=0)
    await sandbox.send_template(message())
    assert await sandbox.flush() == 0  # nobody to deliver to yet

    calls: list[bytes] = []

    def flaky(body: bytes) -> None:
        calls.append(body)
        if len(calls) == 1:
            raise ConnectionError("receiver down")

    sandbox.deliver = flaky
    assert await sandbox.flush() == 0
    assert sandbox.pending == 2
    clock.advance(minutes=1)
    assert await sandbox.release_due() == 2
    assert len(calls) == 2


async def test_templates_are_the_approved_sample_catalogue(sandbox: Sandbox) -> None:
    templates = await sandbox.templates()

    names = {"welcome_offer", "promo_autumn", "order_update", "thank_you", "last_chance"}
    assert {t["name"] for t in templates} == names | {"login_code"}
    assert {t["status"] for t in templates} == {"APPROVED"}
    assert {t["category"] for t in templates} == {"MARKETING", "UTILITY", "AUTHENTICATION"}
    templates[0]["name"] = "changed"
    assert (await sandbox.templates())[0]["name"] != "changed"


async def test_the_background_task_releases_in_real_time() -> None:
    arrived = asyncio.Event()

    def deliver(body: bytes) -> None:
        if any(isinstance(e, StatusEvent) and e.status == "delivered" for e in parse(body)):
            arrived.set()

    timing = Timing(sent=0.01, delivered=0.02, read=0.03, failed=0.01, spread=0.0)
    sandbox = Sandbox(clock=SystemClock(), deliver=deliver, timing=timing, failure_rate=0)
    sandbox.start(interval=0.01)
    try:
        await sandbox.send_template(message())
        await asyncio.wait_for(arrived.wait(), timeout=5)
    finally:
        await sandbox.close()


def test_next_due_says_when_to_move_the_clock_to() -> None:
    clock = ManualClock(START)
    sandbox = Sandbox(clock=clock)
    assert sandbox.next_due() is None

    sandbox.reply(PHONE, "hi")

    assert sandbox.next_due() == START
    assert sandbox.pending == 1


async def test_the_sandbox_reports_a_messaging_limit_like_the_graph_api(sandbox: Sandbox) -> None:
    assert await sandbox.messaging_limit() == "TIER_UNLIMITED"
    sandbox.messaging_limit_tier = "TIER_250"
    assert await sandbox.messaging_limit() == "TIER_250"
