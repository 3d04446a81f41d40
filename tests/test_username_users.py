"""WhatsApp username users: contacts known by a business-scoped user id, with no phone number.

Through the front door: a contact created and updated by ``wa_user_id``, seen, tagged,
enrolled in a sequence, sent a broadcast in the recipient form Meta documents for a
user id, whose statuses count in the funnel, who replies and says STOP with their
number withheld; a contact known by phone learns its user id from a webhook; a CSV
import names users by id; an authentication template is never sent to a user id.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson

from storage.models import Contact, InboundMessage, OutboundMessage
from tests.live import Live

USER = "US.13491208655302741918"
PHONE = "+16505551234"


def _inbound(live: Live, *, text: str, user_id: str, phone: str = "", username: str | None = None) -> bytes:
    """A message as Meta sends it for a user whose number is withheld (``from`` empty)."""
    now = live.clock.now()
    item = {
        "from": phone.lstrip("+"),
        "from_user_id": user_id,
        "id": f"wamid.IN{abs(hash((text, user_id, now))):X}",
        "timestamp": str(int(now.timestamp())),
        "type": "text",
        "text": {"body": text},
    }
    contact: dict[str, Any] = {"profile": {"name": "Pablo"}, "user_id": user_id}
    if username:
        contact["profile"]["username"] = username
    if phone:
        contact["wa_id"] = phone.lstrip("+")
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": live.cloud.phone_number_id},
        "contacts": [contact],
        "messages": [item],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    return orjson.dumps(body)


async def _post(live: Live, body: bytes) -> None:
    assert await live.cloud.webhooks.post_webhook(live.webhook_url, body) == 200
    await live.webhooks_applied()


async def test_a_username_user_is_seen_tagged_enrolled_sent_to_counted_and_opted_out(live: Live) -> None:
    status, made = await live.api.post(
        "/api/contacts", {"wa_user_id": USER, "name": "Pablo", "tags": ["vip"]}
    )
    assert status == 201, made
    assert (made["phone"], made["wa_user_id"], made["username"]) == (None, USER, None)
    status, again = await live.api.post(
        "/api/contacts", {"wa_user_id": USER, "attributes": {"city": "Austin"}}
    )
    assert (status, again["id"], again["attributes"]) == (200, made["id"], {"city": "Austin"})  # upsert by id
    status, seen = await live.api.get(f"/api/contacts/{made['id']}")
    assert (status, seen["wa_user_id"]) == (200, USER)
    status, tagged = await live.api.post(f"/api/contacts/{made['id']}/tags", {"tags": ["gold"]})
    assert (status, tagged["tags"]) == (200, ["gold", "vip"])

    # enrolled by user id, the sequence's message goes out to the user id
    definition = {
        "name": "hello",
        "trigger": {"type": "manual"},
        "steps": [{"id": "hi", "type": "message", "template": "thank_you"}],
    }
    status, seq = await live.api.post("/api/sequences", definition)
    assert status == 201, seq
    await live.api.post(f"/api/sequences/{seq['id']}/activate")
    status, enrolled = await live.api.post("/api/sequences/enroll", {"sequence": "hello", "contact": USER})
    assert status == 201, enrolled
    await live.settle()

    # a broadcast to gold: sent in the recipient form, its statuses counted
    status, b = await live.api.post(
        "/api/broadcasts", {"template": "thank_you", "tags": ["gold"], "schedule": "now"}
    )
    assert status == 201, b
    await live.settle()
    sends = [m for m in live.cloud.accepted if m.type == "template"]
    assert [m.payload.get("recipient") for m in sends] == [USER, USER]
    assert all("to" not in m.payload for m in sends)
    statuses = live.cloud.webhooks.lifecycle(sends[-1], until="read")
    assert all(s["recipient_user_id"] == USER and "recipient_id" not in s for s in statuses)
    assert await live.cloud.webhooks.post_statuses(live.webhook_url, statuses) == [200, 200, 200]
    await live.webhooks_applied()

    # they reply, with their number withheld: a reply in the funnel
    live.clock.advance(timedelta(minutes=5))
    await _post(live, _inbound(live, text="Thanks!", user_id=USER, username="pabloM"))
    funnel = await live.funnel(b["id"])
    assert (funnel["sent"], funnel["delivered"], funnel["read"], funnel["replied"]) == (1, 1, 1, 1)
    with live.herald.database.connection_context():
        message = InboundMessage.get(InboundMessage.body == "Thanks!")
        assert (message.contact_id, message.phone, message.user_id) == (made["id"], None, USER)
        assert Contact.get_by_id(made["id"]).username == "pabloM"

    # STOP opts them out, and the confirmation goes back to the user id
    await _post(live, _inbound(live, text="STOP", user_id=USER))
    await live.eventually(lambda: any(m.type == "text" for m in live.cloud.accepted))
    with live.herald.database.connection_context():
        pablo = Contact.get_by_id(made["id"])
        assert (pablo.opted_in, pablo.opt_out_source) == (False, "keyword")
    (confirmation,) = [m for m in live.cloud.accepted if m.type == "text"]
    assert confirmation.payload["recipient"] == USER
    status, refused = await live.api.post(f"/api/contacts/{made['id']}/optin")
    assert status == 409, refused  # only they can undo their STOP


async def test_a_contact_known_by_phone_learns_its_user_id_and_is_found_by_it_later(live: Live) -> None:
    status, made = await live.api.post("/api/contacts", {"phone": PHONE, "name": "Sheena"})
    assert status == 201
    await _post(live, _inbound(live, text="hello", user_id=USER, phone=PHONE))  # a webhook naming both
    status, got = await live.api.get(f"/api/contacts/{made['id']}")
    assert got["wa_user_id"] == USER
    live.clock.advance(timedelta(minutes=1))
    await _post(live, _inbound(live, text="number withheld now", user_id=USER))
    with live.herald.database.connection_context():
        assert InboundMessage.get(InboundMessage.body == "number withheld now").contact_id == made["id"]
        assert Contact.select().count() == 1  # no second contact


async def test_an_unknown_username_user_saying_stop_is_remembered_by_user_id(live: Live) -> None:
    await _post(live, _inbound(live, text="stop", user_id=USER))
    with live.herald.database.connection_context():
        kept = Contact.get(Contact.wa_user_id == USER)
        assert (kept.phone, kept.opted_in) == (None, False)
    # an import that names them cannot subscribe them again
    csv = f"wa_user_id,name,opted_in\n{USER},Pablo,yes\n".encode()
    status, report = await live.api.post(
        "/api/contacts/import", data=csv, headers={"Content-Type": "text/csv"}
    )
    assert status == 200, report
    assert report["rejected"][0]["line"] == 2
    assert "opted out themselves" in report["rejected"][0]["reason"]


async def test_a_csv_names_contacts_by_phone_by_user_id_or_both(live: Live) -> None:
    csv = (
        "phone,wa_user_id,name,tags\n"
        f"{PHONE},,Sheena,vip\n"
        f",{USER},Pablo,vip\n"
        f"+447911123456,US.80234519935517214401,Both,vip\n"
        ",not-an-id,Bad,vip\n"
    ).encode()
    status, report = await live.api.post(
        "/api/contacts/import", data=csv, headers={"Content-Type": "text/csv"}
    )
    assert status == 200, report
    assert (report["accepted"], report["rejected_total"]) == (3, 1)
    assert "not a WhatsApp business-scoped user id" in report["rejected"][0]["reason"]
    with live.herald.database.connection_context():
        rows = {(c.phone, c.wa_user_id) for c in Contact.select()}
    assert rows == {(PHONE, None), (None, USER), ("+447911123456", "US.80234519935517214401")}


async def test_an_authentication_template_is_never_sent_to_a_user_id(live: Live) -> None:
    """Meta takes a user id for every message but one-tap, zero-tap and copy-code authentication
    (131062): such a contact is skipped with the reason no_phone, and counted."""
    await live.api.post("/api/contacts", {"wa_user_id": USER, "tags": ["otp"]})
    await live.api.post("/api/contacts", {"phone": PHONE, "tags": ["otp"]})
    status, b = await live.api.post(
        "/api/broadcasts",
        {"template": "login_code", "tags": ["otp"], "schedule": "now", "params": ["123456", "123456"]},
    )
    assert status == 201, b
    await live.settle()
    funnel = await live.funnel(b["id"])
    assert (funnel["total"], funnel["sent"], funnel["skipped"]) == (2, 1, {"no_phone": 1})
    assert [m.to for m in live.cloud.accepted] == [PHONE]
    with live.herald.database.connection_context():
        assert OutboundMessage.select().where(OutboundMessage.skip_reason == "no_phone").count() == 1


async def test_a_contact_needs_a_phone_or_a_user_id_and_a_bad_user_id_is_named(live: Live) -> None:
    status, body = await live.api.post("/api/contacts", {"name": "Nobody"})
    assert (status, body["error"]["field"]) == (422, "phone")
    assert "wa_user_id" in body["error"]["message"]
    status, body = await live.api.post("/api/contacts", {"wa_user_id": "13491208655302741918"})
    assert (status, body["error"]["field"]) == (422, "wa_user_id")
    assert "country code, a period and an id" in body["error"]["message"] + body["error"].get("hint", "")
    with live.herald.database.connection_context():
        assert Contact.select().count() == 0
