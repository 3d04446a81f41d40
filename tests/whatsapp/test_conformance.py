"""Meta's published webhook examples, replayed signed through the front door, each with its effect.

The corpus (``meta/examples.json``) holds the payloads Meta's reference pages
publish, each naming its source. Every one must be answered 200 and do what it
says: statuses reach the ledger (with their pricing), replies and opt-outs
take effect for phone and username users alike, identity changes move the
contact, template and account news is stored and told.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from storage import account, counters
from storage.models import Contact, InboundMessage, OutboundMessage, Template
from tests.live import Live

CORPUS = json.loads((Path(__file__).parent / "meta" / "examples.json").read_text())["examples"]
BY_NAME = {example["name"]: example for example in CORPUS}
SHEENA = "+16505551234"  # the user of Meta's examples
PABLO = "US.13491208655302741918"  # the username user of Meta's business-scoped user id guide


async def _world(live: Live) -> dict[str, str]:
    """Sheena by phone and Pablo by user id only, each sent a broadcast; the placeholders."""
    status, _ = await live.api.post(
        "/api/contacts", {"phone": SHEENA, "name": "Sheena Nelson", "tags": ["vip"]}
    )
    assert status == 201
    status, pablo = await live.api.post(
        "/api/contacts", {"wa_user_id": PABLO, "name": "Pablo", "tags": ["vip"]}
    )
    assert status == 201, pablo
    assert (pablo["phone"], pablo["wa_user_id"]) == (None, PABLO)
    status, b = await live.api.post(
        "/api/broadcasts", {"template": "thank_you", "tags": ["vip"], "schedule": "now"}
    )
    assert status == 201, b
    await live.settle()
    sends = {m.to: m for m in live.cloud.accepted}
    assert sends[PABLO].payload["recipient"] == PABLO  # Meta's form for a user known by id only
    assert "to" not in sends[PABLO].payload

    def rows() -> dict[str, OutboundMessage]:
        return {m.wamid: m for m in OutboundMessage.select()}

    by_wamid = live.herald.in_db(rows)
    return {
        "{wamid}": sends[SHEENA].wamid,
        "{row}": str(by_wamid[sends[SHEENA].wamid].id),
        "{wamid_user}": sends[PABLO].wamid,
        "{row_user}": str(by_wamid[sends[PABLO].wamid].id),
    }


async def _replay(live: Live, name: str, ids: dict[str, str]) -> None:
    text = json.dumps(BY_NAME[name]["body"])
    for placeholder, value in ids.items():
        text = text.replace(placeholder, value)
    assert await live.cloud.webhooks.post_webhook(live.webhook_url, text.encode()) == 200
    await live.webhooks_applied()


def _row(live: Live, wamid: str) -> OutboundMessage:
    return live.herald.in_db(lambda: OutboundMessage.get(OutboundMessage.wamid == wamid))


def _contact(live: Live, **where: Any) -> Contact | None:
    ((key, value),) = where.items()
    return live.herald.in_db(lambda: Contact.get_or_none(getattr(Contact, key) == value))


def _template(live: Live, name: str) -> Template:
    return live.herald.in_db(lambda: Template.get(Template.name == name))


def _inbound(live: Live) -> list[InboundMessage]:
    return live.herald.in_db(lambda: list(InboundMessage.select().order_by(InboundMessage.id)))


def _alerts(live: Live) -> dict[str, str]:
    return {a["kind"]: a["message"] for a in live.notes.of("alert")}


def _ignored(live: Live) -> dict[str, int]:
    return live.herald.in_db(counters.read, live.herald.database, counters.IGNORED_WEBHOOK_ITEMS)


def _account(live: Live, key: str) -> Any:
    found = live.herald.in_db(account.get, live.herald.database, key)
    return found.value if found else None


def check_status_sent_marketing_pmp(live: Live, ids: dict[str, str]) -> None:
    row = _row(live, ids["{wamid}"])
    assert row.state == "sent"
    assert (row.pricing_model, row.pricing_category, row.pricing_type, row.billable) == (
        "PMP",
        "marketing",
        "regular",
        True,
    )


def check_status_delivered_v24_no_conversation(live: Live, ids: dict[str, str]) -> None:
    assert _row(live, ids["{wamid}"]).delivered_at is not None


def check_status_read_username_user(live: Live, ids: dict[str, str]) -> None:
    row = _row(live, ids["{wamid_user}"])
    assert row.read_at is not None
    assert row.delivered_at is not None  # read implies delivered
    pablo = _contact(live, wa_user_id=PABLO)
    assert pablo is not None
    assert pablo.username == "pabloM"  # learned from the webhook's contacts


def check_status_failed_131049(live: Live, ids: dict[str, str]) -> None:
    row = _row(live, ids["{wamid}"])
    assert (row.state, row.error_code) == ("failed", 131049)


def check_inbound_text(live: Live, ids: dict[str, str]) -> None:
    (message,) = _inbound(live)
    sheena = _contact(live, phone=SHEENA)
    assert sheena is not None
    assert (message.contact_id, message.kind, message.body) == (
        sheena.id,
        "text",
        "Does it come in another color?",
    )


def check_inbound_text_username_user(live: Live, ids: dict[str, str]) -> None:
    (message,) = _inbound(live)
    pablo = _contact(live, wa_user_id=PABLO)
    assert pablo is not None
    assert (message.contact_id, message.phone, message.user_id, message.kind) == (
        pablo.id,
        None,
        PABLO,
        "text",
    )
    assert pablo.username == "pabloM"


def check_inbound_stop_promotions_button(live: Live, ids: dict[str, str]) -> None:
    sheena = _contact(live, phone=SHEENA)
    assert sheena is not None
    assert (sheena.opted_in, sheena.opt_out_source) == (False, "button")
    confirmations = [m for m in live.cloud.accepted if m.type == "text" and m.to == SHEENA]
    assert len(confirmations) == 1


def check_inbound_interactive_button_reply(live: Live, ids: dict[str, str]) -> None:
    (message,) = _inbound(live)
    assert (message.kind, message.body) == ("interactive", "Yes, please")


def check_unsupported_interactive_with_errors(live: Live, ids: dict[str, str]) -> None:
    (message,) = _inbound(live)  # still the user writing back
    assert (message.kind, message.phone) == ("other", SHEENA)


def check_unsupported_type(live: Live, ids: dict[str, str]) -> None:
    (message,) = _inbound(live)
    assert message.kind == "other"


def check_system_user_changed_number(live: Live, ids: dict[str, str]) -> None:
    assert _contact(live, phone=SHEENA) is None
    moved = _contact(live, phone="+16505559999")
    assert moved is not None
    assert moved.name == "Sheena Nelson"
    assert live.herald.in_db(lambda: Contact.select().count()) == 2  # moved, not added


def check_system_user_changed_user_id(live: Live, ids: dict[str, str]) -> None:
    assert _contact(live, wa_user_id=PABLO) is None
    moved = _contact(live, wa_user_id="US.80234519935517214401")
    assert moved is not None
    assert moved.name == "Pablo"


def check_user_preferences_stop(live: Live, ids: dict[str, str]) -> None:
    sheena = _contact(live, phone=SHEENA)
    assert sheena is not None
    assert (sheena.opted_in, sheena.opt_out_source) == (False, "user_preferences")


def check_user_preferences_stop_username_user(live: Live, ids: dict[str, str]) -> None:
    pablo = _contact(live, wa_user_id=PABLO)
    assert pablo is not None
    assert (pablo.opted_in, pablo.opt_out_source) == (False, "user_preferences")


def check_template_paused_first_pause(live: Live, ids: dict[str, str]) -> None:
    promo = _template(live, "promo_autumn")
    assert (promo.status, promo.other_info) == ("PAUSED", "FIRST_PAUSE")
    assert "promo_autumn is PAUSED (first pause)" in _alerts(live)["template_paused"]


def check_template_reinstated(live: Live, ids: dict[str, str]) -> None:
    assert _template(live, "promo_autumn").status == "APPROVED"
    assert "APPROVED again" in _alerts(live)["template_approved"]


def check_template_disabled(live: Live, ids: dict[str, str]) -> None:
    assert _template(live, "promo_autumn").status == "DISABLED"
    assert "choose another template" in _alerts(live)["template_disabled"]


def check_template_flagged(live: Live, ids: dict[str, str]) -> None:
    welcome = _template(live, "welcome_offer")
    assert (welcome.status, welcome.quality, welcome.other_info) == ("APPROVED", "RED", "FLAGGED")
    assert "disabled in 7 days" in _alerts(live)["template_flagged"]


def check_template_rejected(live: Live, ids: dict[str, str]) -> None:
    # a template Herald does not have: nothing to change, nothing refused
    assert live.herald.in_db(lambda: Template.get_or_none(Template.name == "abandoned_cart")) is None


def check_template_category_update_to_marketing(live: Live, ids: dict[str, str]) -> None:
    assert _template(live, "order_update").category == "MARKETING"
    assert "frequency cap applies" in _alerts(live)["template_category"]


def check_template_quality_red(live: Live, ids: dict[str, str]) -> None:
    assert _template(live, "welcome_offer").quality == "RED"
    assert "rated RED" in _alerts(live)["template_quality"]


def check_business_capability_update(live: Live, ids: dict[str, str]) -> None:
    assert _account(live, account.MESSAGING_LIMIT) == 2000
    assert "2,000 unique users a day" in _alerts(live)["messaging_limit"]


def check_phone_number_quality_update_throughput(live: Live, ids: dict[str, str]) -> None:
    assert _account(live, account.NUMBER_QUALITY) == "THROUGHPUT_UPGRADE"
    assert _account(live, account.MESSAGING_LIMIT) is None  # TIER_UNLIMITED there is throughput
    assert "WHATSAPP_MPS" in _alerts(live)["number_quality"]


def check_account_update_restriction(live: Live, ids: dict[str, str]) -> None:
    stored = _account(live, account.ACCOUNT)
    assert stored["event"] == "ACCOUNT_RESTRICTION"
    assert stored["restriction_info"][0]["restriction_type"] == "RESTRICTED_BIZ_INITIATED_MESSAGING"
    assert "account restriction" in _alerts(live)["account"]


def check_account_update_pricing_tier(live: Live, ids: dict[str, str]) -> None:
    assert _account(live, account.ACCOUNT)["event"] == "VOLUME_BASED_PRICING_TIER_UPDATE"
    assert "account" not in _alerts(live)  # news, not an alarm


def check_messages_errors(live: Live, ids: dict[str, str]) -> None:
    assert "131000" in _alerts(live)["whatsapp_error"]


def check_field_not_handled(live: Live, ids: dict[str, str]) -> None:
    assert _ignored(live) == {"field security": 1}


CHECKS: dict[str, Callable[[Live, dict[str, str]], None]] = {
    name.removeprefix("check_"): fn for name, fn in globals().items() if name.startswith("check_")
}
PRELUDE = {
    "template_reinstated": "template_paused_first_pause",
    "template_disabled": "template_paused_first_pause",
}


def test_every_example_in_the_corpus_has_a_check_and_a_source() -> None:
    assert set(CHECKS) == set(BY_NAME)
    assert all(example["source"].startswith("https://developers.facebook.com/") for example in CORPUS)


@pytest.mark.parametrize("name", sorted(BY_NAME))
async def test_metas_example_is_answered_200_and_takes_effect(live: Live, name: str) -> None:
    ids = await _world(live)
    if name in PRELUDE:
        await _replay(live, PRELUDE[name], ids)
    await _replay(live, name, ids)
    if name == "inbound_stop_promotions_button":  # the confirmation goes out after the commit
        await live.eventually(lambda: any(m.type == "text" for m in live.cloud.accepted))
    CHECKS[name](live, ids)


async def test_a_batch_mixing_understood_and_odd_items_applies_every_understood_one(live: Live) -> None:
    """One body: a good status, an unsupported message, a status Herald does not track, an item
    with a broken timestamp, a field Herald does not handle, and a STOP: all 200, each good
    item applied, each odd one counted by reason."""
    ids = await _world(live)
    good = {
        "id": ids["{wamid}"],
        "status": "read",
        "timestamp": "1750263790",
        "recipient_id": "16505551234",
        "biz_opaque_callback_data": ids["{row}"],
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "statuses": [
            {**good, "status": "played"},
            {**good, "timestamp": "yesterday"},
            good,
        ],
        "messages": [
            BY_NAME["unsupported_type"]["body"]["entry"][0]["changes"][0]["value"]["messages"][0],
            {
                "from": "16505551234",
                "id": "wamid.STOP",
                "timestamp": "1750263800",
                "type": "text",
                "text": {"body": "STOP"},
            },
        ],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "102290129340398", "changes": [{"field": "messages", "value": value}]},
            {"id": "102290129340398", "changes": [{"field": "security", "value": {"event": "PIN_CHANGED"}}]},
        ],
    }
    assert await live.cloud.webhooks.post_webhook(live.webhook_url, orjson.dumps(body)) == 200
    await live.webhooks_applied()
    assert _row(live, ids["{wamid}"]).read_at is not None
    sheena = _contact(live, phone=SHEENA)
    assert sheena is not None
    assert not sheena.opted_in
    assert len(_inbound(live)) == 2
    assert _ignored(live) == {"status played": 1, "timestamp is not a Unix time": 1, "field security": 1}
    async with live.client.get("/metrics") as response:
        text = await response.text()
    assert 'herald_webhook_items_ignored_total{reason="status played"} 1.0' in text
    assert "herald_webhook_quarantined 0.0" in text


async def test_a_notification_for_another_business_number_is_ignored_and_counted(live: Live) -> None:
    """Another number of the same Meta app: nothing in it is applied here."""
    ids = await _world(live)
    text = json.dumps(BY_NAME["user_preferences_stop"]["body"]).replace("106540352242922", "999999999999999")
    assert await live.cloud.webhooks.post_webhook(live.webhook_url, text.encode()) == 200
    await live.webhooks_applied()
    sheena = _contact(live, phone=SHEENA)
    assert sheena is not None
    assert sheena.opted_in
    assert _ignored(live) == {"another business number": 1}
    assert ids
