"""CloudApiClient through real HTTP against the fake Cloud API."""

from __future__ import annotations

import asyncio
import logging
import socket

import orjson
import pytest

from engine.whatsapp.client import CloudApiClient
from engine.whatsapp.errors import (
    Ambiguous,
    CredentialsError,
    DeliveryError,
    PairRateLimited,
    Permanent,
    Retryable,
    RetryLater,
    Throttled,
)
from engine.whatsapp.messages import TextMessage
from tests.fakes.cloud_api import FakeCloudApi
from tests.fakes.cloud_api import welcome_message as welcome

PHONE = "+919812345678"


async def test_template_send_posts_metas_payload_with_bearer_and_returns_the_wamid(
    cloud_api: FakeCloudApi, cloud_client: CloudApiClient
) -> None:
    wamid = await cloud_client.send_template(welcome())

    [request] = cloud_api.sends()
    assert request.path == f"/v25.0/{cloud_api.phone_number_id}/messages"
    assert request.headers["Authorization"] == f"Bearer {cloud_api.token}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+919812345678",
        "type": "template",
        "template": {
            "name": "welcome_offer",
            "language": {"code": "en"},
            "components": [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": "Asha", "parameter_name": "first_name"}],
                }
            ],
        },
        "biz_opaque_callback_data": "4711",
    }
    assert wamid.startswith("wamid.")
    assert cloud_api.accepted[0].wamid == wamid
    assert cloud_api.accepted[0].callback == "4711"


async def test_text_send_posts_a_text_body_without_link_preview(
    cloud_api: FakeCloudApi, cloud_client: CloudApiClient
) -> None:
    wamid = await cloud_client.send_text(TextMessage(to=PHONE, body="Your report is ready."))

    [request] = cloud_api.sends()
    assert request.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": PHONE,
        "type": "text",
        "text": {"body": "Your report is ready.", "preview_url": False},
    }
    assert wamid == cloud_api.accepted[0].wamid


async def test_a_wrong_token_is_a_credentials_error(cloud_api: FakeCloudApi) -> None:
    async with cloud_api.client(token="not-the-token") as client:
        with pytest.raises(CredentialsError) as caught:
            await client.send_template(welcome())
    assert caught.value.error_code == 190
    assert caught.value.http_status == 401
    assert not cloud_api.accepted


ERROR_FAMILIES = [
    # (Graph code, HTTP status, the family the client raises)
    (130429, 400, Throttled),
    (130429, 429, Throttled),
    (131056, 400, PairRateLimited),
    (131000, 500, Retryable),
    (131016, 503, Retryable),
    (1, 400, Retryable),
    (2, 503, Retryable),
    (4, 429, Retryable),
    (80007, 400, Retryable),
    (131057, 400, Retryable),
    (131049, 400, RetryLater),
    (131026, 400, Permanent),
    (131047, 400, Permanent),
    (131050, 400, Permanent),
    (132000, 400, Permanent),
    (132001, 404, Permanent),
    (100, 400, Permanent),
    (0, 401, CredentialsError),
    (190, 401, CredentialsError),
]


@pytest.mark.parametrize(("code", "http_status", "family"), ERROR_FAMILIES)
async def test_graph_errors_raise_the_family_of_their_code(
    cloud_api: FakeCloudApi,
    cloud_client: CloudApiClient,
    code: int,
    http_status: int,
    family: type[DeliveryError],
) -> None:
    cloud_api.fail(code, http_status=http_status)

    with pytest.raises(DeliveryError) as caught:
        await cloud_client.send_template(welcome())

    assert type(caught.value) is family
    assert caught.value.error_code == code
    assert caught.value.http_status == http_status
    assert caught.value.fbtrace_id
    assert caught.value.reason.startswith(f"{code} ")


async def test_a_graph_error_keeps_metas_title_details_and_trace(
    cloud_api: FakeCloudApi, cloud_client: CloudApiClient
) -> None:
    cloud_api.fail(131026, message="Message Undeliverable.", details="Not a WhatsApp number.")

    with pytest.raises(Permanent) as caught:
        await cloud_client.send_template(welcome())

    error = caught.value
    assert error.title == "Message Undeliverable."  # the "(#131026) " prefix is dropped
    assert error.details == "Not a WhatsApp number."
    assert error.fbtrace_id == "AbCdEfGhIjKlMnOpQrStUvW"
    assert error.reason == "131026 Message undeliverable"


async def test_an_error_for_one_recipient_leaves_the_others_alone(
    cloud_api: FakeCloudApi, cloud_client: CloudApiClient
) -> None:
    cloud_api.fail(131056, to="+447911123456", times=None)

    assert await cloud_client.send_template(welcome(PHONE))
    with pytest.raises(PairRateLimited):
        await cloud_client.send_template(welcome("+447911123456"))
    assert await cloud_client.send_template(welcome(PHONE))


async def test_no_answer_in_time_is_ambiguous(cloud_api: FakeCloudApi) -> None:
    cloud_api.delay(2.0)
    async with cloud_api.client(read_timeout=0.2) as client:
        with pytest.raises(Ambiguous) as caught:
            await client.send_template(welcome())
    assert caught.value.error_code is None


@pytest.mark.parametrize("mode", ["close", "reset", "truncate"])
async def test_an_answer_lost_after_acceptance_is_ambiguous(
    cloud_api: FakeCloudApi, cloud_client: CloudApiClient, mode: str
) -> None:
    cloud_api.drop(mode=mode)

    with pytest.raises(Ambiguous):
        await cloud_client.send_template(welcome())

    # Meta has the message: a blind resend would deliver it twice.
    assert len(cloud_api.accepted) == 1
    assert await cloud_client.send_template(welcome())  # the pool recovers


@pytest.mark.parametrize(("http_status", "family"), [(502, Ambiguous), (503, Ambiguous)])
async def test_a_bare_5xx_without_a_graph_body_is_ambiguous(
    cloud_api: FakeCloudApi,
    cloud_client: CloudApiClient,
    http_status: int,
    family: type[DeliveryError],
) -> None:
    cloud_api.bare(http_status)

    with pytest.raises(DeliveryError) as caught:
        await cloud_client.send_template(welcome())

    assert type(caught.value) is family
    assert caught.value.http_status == http_status


@pytest.mark.parametrize(("http_status", "family"), [(429, Throttled), (404, Permanent)])
async def test_a_bare_4xx_is_not_ambiguous(
    cloud_api: FakeCloudApi,
    cloud_client: CloudApiClient,
    http_status: int,
    family: type[DeliveryError],
) -> None:
    cloud_api.bare(http_status, body=b"<html>nope</html>")

    with pytest.raises(DeliveryError) as caught:
        await cloud_client.send_template(welcome())

    assert type(caught.value) is family


async def test_a_2xx_without_a_message_id_is_ambiguous(
    cloud_api: FakeCloudApi, cloud_client: CloudApiClient
) -> None:
    cloud_api.bare(200, body=b'{"messaging_product": "whatsapp", "messages": []}')

    with pytest.raises(Ambiguous):
        await cloud_client.send_template(welcome())


async def test_a_refused_connection_is_retryable_and_not_ambiguous() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = CloudApiClient(
        base_url=f"http://127.0.0.1:{port}",
        api_version="v25.0",
        token="t",
        phone_number_id="1",
    )
    async with client:
        with pytest.raises(Retryable) as caught:
            await client.send_template(welcome())
    assert type(caught.value) is Retryable
    assert "nothing was sent" in caught.value.title


async def test_template_listing_follows_the_cursors_across_pages() -> None:
    base = {"language": "en", "status": "APPROVED", "category": "UTILITY", "components": []}
    many = [{**base, "id": str(i), "name": f"t{i:02}"} for i in range(7)]
    async with FakeCloudApi(templates=many) as fake, fake.client(page_size=3) as client:
        found = await client.templates()

        assert [t["name"] for t in found] == [f"t{i:02}" for i in range(7)]
        listings = [r for r in fake.requests if r.path.endswith("/message_templates")]
        assert [r.query.get("limit") for r in listings] == ["3", "3", "3"]
        assert "after" not in listings[0].query
        assert listings[1].query["after"] != listings[2].query["after"]
        assert all(r.headers["Authorization"] == f"Bearer {fake.token}" for r in listings)


async def test_template_listing_returns_the_whole_template_dicts(
    cloud_client: CloudApiClient,
) -> None:
    found = await cloud_client.templates()

    welcome_offer = next(t for t in found if t["name"] == "welcome_offer")
    assert welcome_offer["parameter_format"] == "NAMED"
    assert welcome_offer["status"] == "APPROVED"
    assert any(c["type"] == "BODY" for c in welcome_offer["components"])


async def test_template_listing_with_a_bad_token_is_a_credentials_error(
    cloud_api: FakeCloudApi,
) -> None:
    cloud_api.fail(190, on="templates")
    async with cloud_api.client() as client:
        with pytest.raises(CredentialsError):
            await client.templates()


@pytest.mark.parametrize(
    "paging",
    [
        {"next": "https://graph.facebook.com/v25.0/1/message_templates?after=x"},
        {"next": "https://elsewhere.example/page2", "cursors": {"after": ""}},
    ],
)
async def test_template_paging_that_does_not_advance_is_refused_not_cut_short(
    cloud_api: FakeCloudApi, cloud_client: CloudApiClient, paging: dict[str, object]
) -> None:
    page = {"data": [{"name": "t1"}], "paging": paging}
    cloud_api.bare(200, body=orjson.dumps(page), on="templates")

    with pytest.raises(Retryable):
        await cloud_client.templates()

    assert len(cloud_api.requests) == 1  # the "next" URL was never fetched


async def test_hundreds_of_sends_are_in_flight_at_once(cloud_api: FakeCloudApi) -> None:
    cloud_api.latency = 0.3
    async with cloud_api.client() as client:
        await asyncio.gather(*(client.send_template(welcome()) for _ in range(200)))
    # At 150 ms per answer, 1,000 sends/s needs 150 or more in flight.
    assert cloud_api.peak_in_flight >= 150


async def test_the_connection_limit_caps_requests_in_flight(cloud_api: FakeCloudApi) -> None:
    cloud_api.latency = 0.05
    async with cloud_api.client(connections=16) as client:
        await asyncio.gather(*(client.send_template(welcome()) for _ in range(64)))
    assert cloud_api.peak_in_flight == 16


async def test_neither_the_token_nor_a_full_number_reaches_the_logs(
    cloud_api: FakeCloudApi, cloud_client: CloudApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    cloud_api.fail(131026)
    cloud_api.bare(502)
    with caplog.at_level(logging.DEBUG, logger="engine.whatsapp"):
        for _ in range(2):
            with pytest.raises(DeliveryError) as caught:
                await cloud_client.send_template(welcome())
            assert cloud_api.token not in str(caught.value)

    assert caplog.records
    assert cloud_api.token not in caplog.text
    assert "9812345678" not in caplog.text
    assert cloud_api.token not in repr(cloud_client)


@pytest.mark.parametrize("tier", ["TIER_250", "TIER_2K", "TIER_UNLIMITED"])
async def test_the_messaging_limit_is_read_from_the_phone_number(
    cloud_api: FakeCloudApi, cloud_client: CloudApiClient, tier: str
) -> None:
    cloud_api.messaging_limit = tier
    assert await cloud_client.messaging_limit() == tier
    [request] = cloud_api.requests
    assert (request.method, request.path) == ("GET", f"/v25.0/{cloud_api.phone_number_id}")
    assert request.query == {"fields": "whatsapp_business_manager_messaging_limit"}
    assert request.headers["Authorization"] == f"Bearer {cloud_api.token}"


async def test_a_refused_token_reading_the_messaging_limit_is_a_credentials_error(
    cloud_api: FakeCloudApi,
) -> None:
    async with cloud_api.client(token="wrong") as client:
        with pytest.raises(CredentialsError):
            await client.messaging_limit()
