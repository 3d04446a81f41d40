"""Meta webhook bodies parsed into typed events, and refused when malformed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from engine.whatsapp.errors import MalformedWebhook
from engine.whatsapp.webhook import (
    AccountEvent,
    Ignored,
    InboundEvent,
    MarketingPreferenceEvent,
    StatusError,
    StatusEvent,
    SystemErrorEvent,
    TemplateStatusEvent,
    describe_failure,
    parse,
)

WABA = "102290129340398"
STATUS = {"id": "wamid.A", "status": "sent", "timestamp": "1751142800", "recipient_id": "1650"}
METADATA = {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"}


def body(field: str, value: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": WABA, "changes": [{"field": field, "value": value}]}],
        }
    )


def messages(**value: Any) -> bytes:
    return body("messages", {"messaging_product": "whatsapp", "metadata": METADATA, **value})


CAPPED = "This message was not delivered to maintain healthy ecosystem engagement."


def test_a_failed_status_carries_its_errors_callback_and_utc_time() -> None:
    failed: dict[str, Any] = {
        "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2MjA4NEYyRkExNjMyREUA",
        "status": "failed",
        "timestamp": "1751142888",
        "recipient_id": "16505551234",
        "biz_opaque_callback_data": "4711",
        "errors": [
            {
                "code": 131049,
                "title": CAPPED,
                "message": CAPPED,
                "error_data": {"details": "In order to maintain a healthy ecosystem engagement."},
                "href": "/documentation/business-messaging/whatsapp/support/error-codes",
            }
        ],
    }

    [event] = parse(messages(statuses=[failed]))

    assert event == StatusEvent(
        wamid=failed["id"],
        status="failed",
        at=datetime(2025, 6, 28, 20, 34, 48, tzinfo=UTC),
        recipient="+16505551234",
        callback="4711",
        errors=(StatusError(131049, CAPPED, "In order to maintain a healthy ecosystem engagement."),),
        phone_number_id="106540352242922",
    )
    assert event.errors[0].reason == "131049 Per-user marketing limit"


def test_statuses_keep_body_order_and_read_may_come_without_delivered() -> None:
    statuses = [
        {"id": "wamid.A", "status": "read", "timestamp": "1751142900", "recipient_id": "1650"},
        {"id": "wamid.A", "status": "sent", "timestamp": "1751142800", "recipient_id": "1650"},
        {"id": "wamid.B", "status": "delivered", "timestamp": 1751142801, "recipient_id": "4479"},
    ]

    events = parse(messages(statuses=statuses))

    assert [(e.wamid, e.status) for e in events if isinstance(e, StatusEvent)] == [
        ("wamid.A", "read"),
        ("wamid.A", "sent"),
        ("wamid.B", "delivered"),
    ]
    assert all(isinstance(e, StatusEvent) and e.callback is None for e in events)


def test_a_status_herald_does_not_track_is_unknown_not_an_error() -> None:
    played = {"id": "wamid.V", "status": "played", "timestamp": "1", "recipient_id": "1650"}

    assert parse(messages(statuses=[played])) == [
        Ignored("status played", "messages", "entry[0].changes[0].value.statuses[0]")
    ]


def test_a_thousand_statuses_in_one_body_are_all_read() -> None:
    statuses = [{**STATUS, "id": f"wamid.{i}", "status": "delivered"} for i in range(1000)]

    events = parse(messages(statuses=statuses))

    assert len(events) == 1000
    assert events[-1].wamid == "wamid.999"  # type: ignore[union-attr]


def test_an_inbound_text_carries_the_sender_in_e164_and_their_profile_name() -> None:
    message = {
        "from": "16505551234",
        "id": "wamid.IN",
        "timestamp": "1749416383",
        "type": "text",
        "text": {"body": "Does it come in another color?"},
    }
    contacts = [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}]

    [event] = parse(messages(contacts=contacts, messages=[message]))

    assert event == InboundEvent(
        wamid="wamid.IN",
        phone="+16505551234",
        kind="text",
        text="Does it come in another color?",
        at=datetime(2025, 6, 8, 20, 59, 43, tzinfo=UTC),
        name="Sheena Nelson",
        phone_number_id="106540352242922",
    )


@pytest.mark.parametrize(
    ("message", "kind", "text", "payload"),
    [
        (
            {"type": "button", "button": {"payload": "STOP_PROMO", "text": "Stop promotions"}},
            "button",
            "Stop promotions",
            "STOP_PROMO",
        ),
        (
            {"type": "button", "button": {"payload": "Unsubscribe"}},
            "button",
            "Unsubscribe",
            "Unsubscribe",
        ),
        (
            {
                "type": "interactive",
                "interactive": {
                    "type": "button_reply",
                    "button_reply": {"id": "yes", "title": "Yes"},
                },
            },
            "interactive",
            "Yes",
            "yes",
        ),
        (
            {
                "type": "interactive",
                "interactive": {
                    "type": "list_reply",
                    "list_reply": {"id": "sz-m", "title": "Medium", "description": "M"},
                },
            },
            "interactive",
            "Medium",
            "sz-m",
        ),
        (
            {"type": "image", "image": {"id": "123", "caption": "my receipt"}},
            "other",
            "my receipt",
            None,
        ),
        ({"type": "reaction", "reaction": {"emoji": "👍"}}, "other", "", None),
        (
            {"type": "interactive", "interactive": {"type": "nfm_reply", "nfm_reply": {}}},
            "other",
            "",
            None,
        ),
    ],
)
def test_inbound_replies_are_read_by_kind(
    message: dict[str, Any], kind: str, text: str, payload: str | None
) -> None:
    item = {
        "from": "16505551234",
        "id": "wamid.TAP",
        "timestamp": "1750091045",
        "context": {"from": "15550783881", "id": "wamid.TEMPLATE"},
        **message,
    }

    [event] = parse(messages(messages=[item]))

    assert isinstance(event, InboundEvent)
    assert (event.kind, event.text, event.payload) == (kind, text, payload)
    assert event.context == "wamid.TEMPLATE"
    assert event.name is None


def test_a_template_status_update_is_read_case_insensitively_with_a_string_id() -> None:
    value = {
        "event": "paused",
        "message_template_id": 1689556908129835,
        "message_template_name": "promo_autumn",
        "message_template_language": "en",
        "reason": "NONE",
    }

    assert parse(body("message_template_status_update", value)) == [
        TemplateStatusEvent("promo_autumn", "en", "PAUSED", None, "1689556908129835")
    ]


def test_a_rejected_template_keeps_its_reason() -> None:
    value = {
        "event": "REJECTED",
        "message_template_id": 7,
        "message_template_name": "abandoned_cart",
        "message_template_language": "en_US",
        "reason": "INVALID_FORMAT",
    }

    [event] = parse(body("message_template_status_update", value))

    assert isinstance(event, TemplateStatusEvent)
    assert event.reason == "INVALID_FORMAT"


def test_user_preferences_stop_and_resume_marketing() -> None:
    value = {
        "messaging_product": "whatsapp",
        "metadata": METADATA,
        "contacts": [{"wa_id": "16505551234"}],
        "user_preferences": [
            {
                "wa_id": "16505551234",
                "detail": "User requested to stop marketing messages",
                "category": "marketing_messages",
                "value": "stop",
                "timestamp": 1731705721,
            },
            {
                "wa_id": "16505551234",
                "category": "marketing_messages",
                "value": "resume",
                "timestamp": 1731705800,
            },
        ],
    }

    events = parse(body("user_preferences", value))

    assert events == [
        MarketingPreferenceEvent("+16505551234", "stop", datetime.fromtimestamp(1731705721, UTC)),
        MarketingPreferenceEvent("+16505551234", "resume", datetime.fromtimestamp(1731705800, UTC)),
    ]


def test_system_errors_outside_any_message_are_reported() -> None:
    error = {"code": 131000, "title": "Something went wrong", "error_data": "try later"}

    assert parse(messages(errors=[error])) == [
        SystemErrorEvent((StatusError(131000, "Something went wrong", "try later"),))
    ]


def test_an_unknown_field_is_ignored_with_its_name_as_the_reason() -> None:
    assert parse(body("security", {"event": "PIN_CHANGED"})) == [Ignored("field security", "security")]
    [event] = parse(body("account_update", {"event": "VERIFIED_ACCOUNT"}))
    assert isinstance(event, AccountEvent)
    assert event.event == "VERIFIED_ACCOUNT"


def test_every_entry_and_change_of_a_batched_body_is_read() -> None:
    status = {"id": "wamid.A", "status": "sent", "timestamp": "1", "recipient_id": "1650"}
    change = {"field": "messages", "value": {"statuses": [status]}}
    document = {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": WABA, "changes": [change, change]},
            {"id": WABA, "changes": [{"field": "security", "value": {}}]},
        ],
    }

    events = parse(orjson.dumps(document))

    assert [type(e).__name__ for e in events] == ["StatusEvent", "StatusEvent", "Ignored"]


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "body is not an object"),
        (orjson.dumps({"object": "page", "entry": []}), "object is 'page'"),
    ],
)
def test_only_a_body_that_is_not_a_whatsapp_notification_is_refused(raw: bytes, where: str) -> None:
    with pytest.raises(MalformedWebhook) as caught:
        parse(raw)
    assert where in str(caught.value)


GOOD = {"id": "wamid.GOOD", "status": "delivered", "timestamp": "1751142801", "recipient_id": "16505551234"}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (orjson.dumps({"object": "whatsapp_business_account"}), "entry is not a list"),
        (
            orjson.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1"}]}),
            "entry without changes",
        ),
        (
            orjson.dumps({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {}}]}]}),
            "change without a field",
        ),
        (body("messages", []), "change without a value object"),  # type: ignore[arg-type]
        (messages(statuses={"id": "x"}), "statuses is not a list"),
        (messages(statuses=[{**STATUS, "id": None}, GOOD]), "id is missing"),
        (messages(statuses=[{**STATUS, "status": None}, GOOD]), "status without a status"),
        (messages(statuses=[{**STATUS, "timestamp": "soon"}, GOOD]), "timestamp is not a Unix time"),
        (
            messages(statuses=[{**STATUS, "status": "failed", "errors": [{"code": "x"}]}, GOOD]),
            "error code is not a number",
        ),
        (messages(messages=[{"id": "wamid.X", "type": "text"}], statuses=[GOOD]), "message without a sender"),
        (body("message_template_status_update", {"event": "APPROVED"}), "message_template_name is missing"),
    ],
)
def test_a_malformed_item_is_ignored_with_its_reason_and_its_neighbours_are_read(
    raw: bytes, reason: str
) -> None:
    events = parse(raw)

    assert reason in [e.reason for e in events if isinstance(e, Ignored)]
    if b"wamid.GOOD" in raw:
        assert [e.wamid for e in events if isinstance(e, StatusEvent)] == ["wamid.GOOD"]


@pytest.mark.parametrize(
    ("code", "title", "described"),
    [
        (131026, "", "131026 Message undeliverable"),
        (131050, "whatever Meta says", "131050 Recipient stopped marketing messages"),
        (131049, "", "131049 Per-user marketing limit"),
        (132015, "", "132015 Template paused"),
        (250, "", "250 Permission error"),
        (999999, "Brand new failure", "999999 Brand new failure"),
        (999999, "", "999999 Unknown error"),
        (None, "timed out", "timed out"),
    ],
)
def test_failures_are_described_with_stable_titles_for_the_funnel(
    code: int | None, title: str, described: str
) -> None:
    assert describe_failure(code, title) == described
