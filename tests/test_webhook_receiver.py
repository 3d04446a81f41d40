"""The WhatsApp webhook receiver through the front door: handshake, signatures, statuses, inbound."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from storage import counters
from storage.models import Contact, InboundMessage, OutboundMessage, WebhookInbox, WebhookQuarantine
from tests.helpers import phones, refusing_updates, seed_contacts
from tests.live import Live


async def test_the_handshake_echoes_the_challenge_only_for_the_right_token(live: Live) -> None:
    ok = await live.client.get(
        "/webhooks/whatsapp",
        params={"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "42"},
    )
    assert (ok.status, await ok.text()) == (200, "42")
    for params in (
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "42"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "verify-me", "hub.challenge": "42"},
        {"hub.challenge": "42"},
    ):
        refused = await live.client.get("/webhooks/whatsapp", params=params)
        assert refused.status == 403
        assert "42" not in await refused.text()


async def test_bad_or_missing_signatures_are_refused_and_nothing_is_stored(live: Live) -> None:
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(2)])
    body = live.cloud.webhooks.body(messages=[])
    inbound = orjson.dumps(orjson.loads(body))
    for signature in (
        "",
        "sha256=" + "0" * 64,
        "sha1=abc",
        live.cloud.webhooks.signature(body, "other-secret"),
    ):
        status = await live.cloud.webhooks.post_webhook(live.webhook_url, inbound, signature=signature)
        assert status == 401
    tampered = body.replace(b"whatsapp", b"whatsapP", 1)
    status = await live.cloud.webhooks.post_webhook(
        live.webhook_url, tampered, signature=live.cloud.webhooks.signature(body)
    )
    assert status == 401
    with live.herald.database.connection_context():
        assert WebhookInbox.select().count() == 0
        assert InboundMessage.select().count() == 0


async def test_only_bodies_that_are_not_whatsapp_notifications_get_400_and_nothing_is_stored(
    live: Live,
) -> None:
    for body in (b"{not json", b'{"object": "page", "entry": []}', b"[]"):
        status = await live.cloud.webhooks.post_webhook(live.webhook_url, body)
        assert status == 400
    with live.herald.database.connection_context():
        assert WebhookInbox.select().count() == 0
    # a notification whose insides Herald cannot read is still Meta's: stored, answered 200,
    # its items counted as ignored (a 4xx would make Meta redeliver it for days)
    odd = b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {}}]}]}'
    assert await live.cloud.webhooks.post_webhook(live.webhook_url, odd) == 200
    await live.settle()
    assert live.herald.in_db(counters.read, live.herald.database, counters.IGNORED_WEBHOOK_ITEMS) == {
        "change without a field": 1
    }


async def test_a_status_arriving_before_the_send_is_recorded_finds_it_by_callback(live: Live) -> None:
    numbers = phones(2)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    live.cloud.drop(to=numbers[0])  # Meta accepts, the answer is lost: Herald has no wamid yet
    status, b = await live.api.post(
        "/api/broadcasts", {"template": "thank_you", "tags": ["vip"], "schedule": "now"}
    )
    assert status == 201
    await live.settle()
    lost = next(m for m in live.cloud.accepted if m.to == numbers[0])
    statuses = list(reversed(live.cloud.webhooks.lifecycle(lost, until="read")))  # read first
    await live.cloud.webhooks.post_statuses(live.webhook_url, statuses)
    await live.eventually(
        lambda: OutboundMessage.select().where(OutboundMessage.wamid == lost.wamid).count() == 1
    )
    funnel = (await live.api.get(f"/api/broadcasts/{b['id']}"))[1]["funnel"]
    assert (funnel["sent"], funnel["delivered"], funnel["read"], funnel["pending"]) == (2, 1, 1, 0)


async def test_inbound_stop_opts_out_start_opts_back_in_and_each_is_confirmed_once(live: Live) -> None:
    number = phones(1)[0]
    ids = seed_contacts(live.herald, [(number, ["vip"])])
    for _ in range(2):  # Meta delivers the same message twice: one opt-out, one confirmation
        status = await live.cloud.webhooks.post_webhook(
            live.webhook_url, _inbound(live, number, "STOP", wamid="wamid.IN1")
        )
        assert status == 200
    await live.eventually(lambda: not Contact.get_by_id(ids[0]).opted_in)
    await live.eventually(lambda: len([m for m in live.cloud.accepted if m.type == "text"]) == 1)
    with live.herald.database.connection_context():
        contact = Contact.get_by_id(ids[0])
        assert contact.opt_out_source == "keyword"
        assert InboundMessage.select().count() == 1
    status, _body = await live.api.post("/api/contacts", {"phone": number, "opted_in": True})
    assert status == 409  # nobody but the contact can undo a STOP
    await live.cloud.webhooks.post_webhook(
        live.webhook_url, _inbound(live, number, "Start", wamid="wamid.IN2")
    )
    await live.eventually(lambda: Contact.get_by_id(ids[0]).opted_in)
    await live.eventually(lambda: len([m for m in live.cloud.accepted if m.type == "text"]) == 2)
    texts = [m.payload["text"]["body"] for m in live.cloud.accepted if m.type == "text"]
    assert "START" in texts[0]
    assert "STOP" in texts[1]


async def test_the_stop_promotions_button_opts_out_and_a_reply_counts_in_the_funnel(live: Live) -> None:
    numbers = phones(2)
    ids = seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    _, b = await live.api.post(
        "/api/broadcasts", {"template": "promo_autumn", "tags": ["vip"], "schedule": "now"}
    )
    await live.settle()
    later = live.clock.now() + timedelta(minutes=3)
    await live.cloud.webhooks.post_inbound(
        live.webhook_url, numbers[0], "Stop promotions", button_payload="Stop promotions", at=later
    )
    await live.cloud.webhooks.post_inbound(
        live.webhook_url, numbers[1], "Sounds great, is it on shoes too?", at=later
    )
    await live.eventually(lambda: not Contact.get_by_id(ids[0]).opted_in)
    await live.eventually(
        lambda: OutboundMessage.select().where(OutboundMessage.replied_at.is_null(False)).count() == 2
    )
    with live.herald.database.connection_context():
        assert Contact.get_by_id(ids[0]).opt_out_source == "button"
        assert Contact.get_by_id(ids[1]).opted_in
    funnel = (await live.api.get(f"/api/broadcasts/{b['id']}"))[1]["funnel"]
    assert funnel["replied"] == 2


def _inbound(live: Live, phone: str, text: str, *, wamid: str) -> bytes:
    from engine.whatsapp.simulate import inbound_object

    item = inbound_object(wamid, phone, datetime(2026, 11, 30, 8, 1, tzinfo=UTC), text=text)
    return live.cloud.webhooks.body(messages=[item], contacts=[(phone, "Asha")])


async def test_a_body_whose_apply_fails_is_retried_alone_and_applied_once_it_can_be(live: Live) -> None:
    from storage import inbox

    number = phones(1)[0]
    seed_contacts(live.herald, [(number, ["vip"])])
    await live.api.post("/api/broadcasts", {"template": "thank_you", "tags": ["vip"], "schedule": "now"})
    await live.settle()
    sent = live.cloud.accepted[0]
    body = live.cloud.webhooks.body(live.cloud.webhooks.lifecycle(sent, until="delivered"))
    database = live.herald.database

    with refusing_updates(live.herald):  # every ledger update refused: nothing can be applied
        live.herald.in_db(lambda: inbox.put(database, [body], live.clock.now()))
        result = live.herald.in_db(live.herald.ingest.process_inbox)
        assert (result.bodies, result.quarantined) == (0, 0)
        with database.connection_context():
            row = WebhookInbox.get()
            assert (row.attempts, row.claimed_at) == (1, None)  # counted, and retried at the next pass
            assert "refused" in row.last_error
            assert OutboundMessage.get().delivered_at is None
    assert live.herald.in_db(live.herald.ingest.process_inbox).bodies == 0  # groups leave it out
    assert live.herald.in_db(live.herald.ingest.retry_failed).bodies == 1
    with database.connection_context():
        assert OutboundMessage.get().delivered_at is not None
        assert WebhookInbox.select().count() == 0


async def test_a_poison_body_is_quarantined_after_five_tries_and_never_holds_back_the_others(
    live: Live,
) -> None:
    """Meta delivers three bodies; the middle one can never be applied. The other two apply at
    once; the poison one is retried alone on each pass and set aside on the fifth failure,
    with an alert, and the inbox drains."""
    numbers = phones(3)
    seed_contacts(live.herald, [(n, ["vip"]) for n in numbers])
    await live.api.post("/api/broadcasts", {"template": "thank_you", "tags": ["vip"], "schedule": "now"})
    await live.settle()
    database = live.herald.database
    by_to = {m.to: m for m in live.cloud.accepted}
    poison_row = live.herald.in_db(
        lambda: OutboundMessage.get(OutboundMessage.wamid == by_to[numbers[1]].wamid).id
    )

    with refusing_updates(live.herald, [poison_row]):
        for number in numbers:
            statuses = live.cloud.webhooks.lifecycle(by_to[number], until="read")
            assert await live.cloud.webhooks.post_statuses(live.webhook_url, statuses, per_body=3) == [200]
        for _ in range(6):
            await live.tick()
    with database.connection_context():
        read = {m.contact.phone: m.read_at is not None for m in OutboundMessage.select().join(Contact)}
        assert read == {numbers[0]: True, numbers[1]: False, numbers[2]: True}
        assert WebhookInbox.select().count() == 0
        (kept,) = list(WebhookQuarantine.select())
        assert kept.attempts == 5
        assert "refused" in kept.reason
        assert by_to[numbers[1]].wamid in kept.body
    assert [a["kind"] for a in live.notes.of("alert")] == ["webhook_quarantined"]


async def test_on_postgresql_a_delivery_is_answered_while_an_apply_waits_for_a_ledger_lock(
    live: Live,
) -> None:
    """The group commit and the apply run on two connections at once: a 200 never waits for an
    apply (here one blocked by a worker's lock on the ledger row), yet nothing is lost."""
    import asyncio

    import pytest

    from storage.database import is_postgres, open_database

    if not is_postgres(live.herald.database):
        pytest.skip("on SQLite writing and applying take turns (one writer at a time)")
    seed_contacts(live.herald, [(phones(1)[0], ["vip"])])
    await live.api.post("/api/broadcasts", {"template": "thank_you", "tags": ["vip"], "schedule": "now"})
    await live.settle()
    sent = live.cloud.accepted[0]
    hooks = live.cloud.webhooks
    worker = open_database(live.herald.settings.database_url)  # a worker holding the ledger row
    try:
        with worker.connection_context():
            worker.execute_sql("BEGIN")
            worker.execute_sql("SELECT id FROM outbound_message FOR UPDATE")
            assert (
                await hooks.post_webhook(live.webhook_url, hooks.body([hooks.status(sent, "delivered")]))
                == 200
            )
            await live.eventually(
                lambda: live.herald.database.execute_sql(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted"
                ).fetchone()[0]
            )  # the apply is waiting for the row
            read = hooks.body([hooks.status(sent, "read")])
            assert await asyncio.wait_for(hooks.post_webhook(live.webhook_url, read), timeout=5) == 200
            assert OutboundMessage.get().delivered_at is None
            worker.execute_sql("ROLLBACK")
    finally:
        worker.close_all()  # type: ignore[attr-defined]
    await live.eventually(lambda: OutboundMessage.get().read_at is not None)
    await live.eventually(lambda: WebhookInbox.select().count() == 0)
    with live.herald.database.connection_context():
        row = OutboundMessage.get()
        assert row.delivered_at is not None


async def test_text_no_database_can_store_is_cleaned_and_the_stop_beside_it_applies(live: Live) -> None:
    """A NUL in an inbound message (PostgreSQL refuses it; SQLite cut the text at it) is
    removed before anything is written, the same on both engines; the STOP in the same body
    takes effect."""
    numbers = phones(2)
    ids = seed_contacts(live.herald, [(n, ["vip"]) for n in numbers])
    webhooks = live.cloud.webhooks
    now = live.clock.now()
    from engine.whatsapp.simulate import inbound_object

    items = [
        inbound_object("wamid.NUL", numbers[0], now, text="x\x00y"),
        inbound_object("wamid.STOP", numbers[1], now, text="STOP"),
    ]
    body = webhooks.body(messages=items)
    assert b"\\u0000" in body
    assert await webhooks.post_webhook(live.webhook_url, body) == 200
    await live.webhooks_applied()
    with live.herald.database.connection_context():
        assert InboundMessage.get(InboundMessage.wamid == "wamid.NUL").body == "xy"
        assert not Contact.get_by_id(ids[1]).opted_in


async def test_an_ignored_reason_is_logged_once_and_counted_every_time(
    live: Live, caplog: pytest.LogCaptureFixture
) -> None:
    played = {"id": "wamid.V", "status": "played", "timestamp": "1", "recipient_id": "16505551234"}
    caplog.set_level(logging.INFO, logger="herald.ingest")
    for _ in range(3):
        body = live.cloud.webhooks.body(statuses=[played])
        assert await live.cloud.webhooks.post_webhook(live.webhook_url, body) == 200
        await live.webhooks_applied()
    said = [r.getMessage() for r in caplog.records if "ignored webhook item" in r.getMessage()]
    assert len([s for s in said if "logged once" in s]) == 1
    assert live.herald.in_db(counters.read, live.herald.database, counters.IGNORED_WEBHOOK_ITEMS) == {
        "status played": 3
    }
