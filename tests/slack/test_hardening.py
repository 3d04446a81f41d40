"""``/slack/events`` against odd clients, through real sockets: compressed bodies, bombs, stalls,
and signature headers that cannot be Slack's (401, never 500)."""

from __future__ import annotations

import gzip
import logging
import time
from typing import Any

import pytest
from slack_sdk.signature import SignatureVerifier

from storage.models import Broadcast
from tests.helpers import phones, seed_contacts
from tests.slack.conftest import SIGNING_SECRET, SlackWorld
from tests.sockets import connected, exchange, head, read_answer

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # no engine involved


@pytest.fixture
def slack_overrides() -> dict[str, Any]:
    return {"body_timeout_seconds": 0.5}


def _signed(body: bytes, **extra: str | bytes) -> dict[str, str | bytes]:
    ts = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body.decode())
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Length": str(len(body)),
        **extra,
    }


async def test_a_gzipped_slash_command_is_read_and_answered(slack: SlackWorld) -> None:
    seed_contacts(slack.live.herald, [(p, ["vip"]) for p in phones(2)])
    body, key = slack.command_body("/broadcast promo_autumn tags:vip now")
    packed = gzip.compress(body.encode())
    headers = _signed(body.encode(), **{"Content-Encoding": "gzip", "Content-Length": str(len(packed))})
    answer = await exchange(slack.live.client, head("POST", "/slack/events", headers) + packed)
    assert answer.status == 200
    preview = await slack.answer(key)
    assert "2 will get it" in str(preview["blocks"])


async def test_a_gzip_bomb_is_refused_413_before_it_is_inflated(slack: SlackWorld) -> None:
    bomb = gzip.compress(b"\0" * (9 * 2**20), 9)
    headers = _signed(b"", **{"Content-Encoding": "gzip", "Content-Length": str(len(bomb))})
    answer = await exchange(slack.live.client, head("POST", "/slack/events", headers) + bomb)
    assert answer.status == 413
    assert answer.json()["error"]["code"] == "body_too_large"


async def test_a_stalled_body_is_answered_408_and_closed(slack: SlackWorld) -> None:
    async with connected(slack.live.client) as [(reader, writer)]:
        writer.write(head("POST", "/slack/events", _signed(b"x" * 100)) + b"command=")
        answer = await read_answer(reader, 5)
    assert answer.status == 408
    assert answer.headers["connection"] == "close"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Slack-Signature", b"v0=" + "é".encode() * 64),
        ("X-Slack-Signature", b"v0=\xff\xfe"),
        ("X-Slack-Request-Timestamp", b"1e9"),
        ("X-Slack-Request-Timestamp", b""),
        ("X-Slack-Request-Timestamp", "١٧٩٠٠٠٠٠٠٠".encode()),  # digits, not ASCII ones
        ("X-Slack-Request-Timestamp", b"\xff"),
    ],
)
async def test_signature_headers_that_cannot_be_slacks_get_401_and_reach_no_listener(
    slack: SlackWorld, name: str, value: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    seed_contacts(slack.live.herald, [(p, ["vip"]) for p in phones(2)])
    body, key = slack.command_body("/broadcast promo_autumn tags:vip now")
    headers = _signed(body.encode(), **{name: value})
    answer = await exchange(slack.live.client, head("POST", "/slack/events", headers) + body.encode())
    assert answer.status == 401
    assert answer.json()["error"]["field"] == name
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert slack.fake.answered(key) == []
    assert slack.live.herald.in_db(lambda: Broadcast.select().count()) == 0
