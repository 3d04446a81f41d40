"""Credentials and signatures in header values that are not ASCII get 401, never 500, and change nothing.

Sent as raw bytes over a real socket: UTF-8 text, Latin-1 bytes that are not
UTF-8 at all, and a control-free mix, in each header Herald checks.
"""

from __future__ import annotations

import logging

import pytest

from storage.models import Contact, WebhookInbox
from tests.conftest import API_TOKEN
from tests.live import Live
from tests.sockets import exchange, head

ODD_VALUES = [
    "Bearer tökén".encode(),  # UTF-8, not ASCII
    b"Bearer \xff\xfe\xfd",  # not UTF-8 at all
    f"Bearer {API_TOKEN}\u00a0".encode(),  # the right token and a no-break space
    "Bearer ٣٣٣".encode(),  # digits, but not ASCII ones
]


@pytest.mark.parametrize("value", ODD_VALUES)
async def test_an_authorization_that_is_not_ascii_gets_401(
    live: Live, value: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    body = b'{"phone": "+447911123456"}'
    headers = {
        "Authorization": value,
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
    }
    answer = await exchange(live.client, head("POST", "/api/contacts", headers) + body)
    assert answer.status == 401
    assert answer.json()["error"]["code"] == "unauthorized"
    assert live.herald.in_db(lambda: Contact.select().count()) == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "value",
    [
        b"sha256=" + "é".encode() * 32,  # 64 characters, not ASCII
        b"sha256=" + b"\xff" * 64,
        b"sha256=" + "０".encode() * 64,  # full-width zeros
    ],
)
async def test_a_webhook_signature_that_is_not_ascii_gets_401_and_nothing_is_stored(
    live: Live, value: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    body = live.cloud.webhooks.body(messages=[])
    headers = {
        "X-Hub-Signature-256": value,
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
    }
    answer = await exchange(live.client, head("POST", "/webhooks/whatsapp", headers) + body)
    assert answer.status == 401
    assert live.herald.in_db(lambda: WebhookInbox.select().count()) == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
