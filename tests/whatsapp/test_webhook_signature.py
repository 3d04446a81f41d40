"""X-Hub-Signature-256: HMAC-SHA256 of the raw body with the app secret."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from engine.whatsapp.webhook import InboundEvent, StatusEvent, sign, verify_signature
from tests.fakes.cloud_api import FakeCloudApi, welcome_message
from tests.fakes.webhook_sink import WebhookSink

SECRET = "app-secret-5c1e"
BODY = b'{"object":"whatsapp_business_account","entry":[]}'


def meta_signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_metas_signature_of_the_raw_body_verifies() -> None:
    assert verify_signature(BODY, meta_signature(BODY), SECRET)
    assert sign(BODY, SECRET) == meta_signature(BODY)


def test_an_upper_case_hex_digest_verifies() -> None:
    assert verify_signature(BODY, "sha256=" + meta_signature(BODY)[7:].upper(), SECRET)


@pytest.mark.parametrize(
    ("body", "header", "secret"),
    [
        (BODY, meta_signature(BODY, "another-secret"), SECRET),  # wrong secret
        (BODY.replace(b"[]", b"[ ]"), meta_signature(BODY), SECRET),  # re-serialized body
        (BODY + b" ", meta_signature(BODY), SECRET),  # tampered body
        (BODY, None, SECRET),  # missing header
        (BODY, "", SECRET),
        (BODY, meta_signature(BODY)[7:], SECRET),  # no sha256= prefix
        (BODY, "sha1=" + meta_signature(BODY)[7:], SECRET),
        (BODY, meta_signature(BODY)[:-2], SECRET),  # truncated
        (BODY, "sha256=" + "z" * 64, SECRET),  # not hex
        (BODY, meta_signature(BODY, ""), ""),  # no secret configured
    ],
)
def test_anything_but_the_exact_signature_is_refused(body: bytes, header: str | None, secret: str) -> None:
    assert not verify_signature(body, header, secret)


async def test_the_fake_posts_signed_statuses_a_receiver_accepts(
    cloud_api: FakeCloudApi, webhook_sink: WebhookSink
) -> None:
    async with cloud_api.client() as client:
        wamid = await client.send_template(welcome_message())

    answers = await cloud_api.webhooks.deliver_statuses(webhook_sink.url)

    assert answers == [200, 200, 200]
    assert [(e.wamid, e.status) for e in webhook_sink.events if isinstance(e, StatusEvent)] == [
        (wamid, "sent"),
        (wamid, "delivered"),
        (wamid, "read"),
    ]


async def test_a_receiver_refuses_a_wrong_or_missing_signature(
    cloud_api: FakeCloudApi, webhook_sink: WebhookSink
) -> None:
    body = cloud_api.webhooks.body()

    assert await cloud_api.webhooks.post_webhook(webhook_sink.url, body, secret="not-the-secret") == 403
    assert await cloud_api.webhooks.post_webhook(webhook_sink.url, body, signature="") == 401
    assert await cloud_api.webhooks.post_webhook(webhook_sink.url, body) == 200
    assert webhook_sink.events == []


async def test_the_fake_posts_inbound_replies_with_the_profile_name(
    cloud_api: FakeCloudApi, webhook_sink: WebhookSink
) -> None:
    answer = await cloud_api.webhooks.post_inbound(
        webhook_sink.url,
        "+16505551234",
        "Stop promotions",
        name="Sheena",
        context="wamid.T",
        button_payload="STOP",
    )

    assert answer == 200
    [reply] = webhook_sink.events
    assert isinstance(reply, InboundEvent)
    assert (reply.phone, reply.kind, reply.text, reply.payload) == (
        "+16505551234",
        "button",
        "Stop promotions",
        "STOP",
    )
    assert (reply.name, reply.context) == ("Sheena", "wamid.T")
