"""Bodies sent with Content-Encoding gzip or deflate, through real sockets: read as what they stand
for, and refused as soon as what they inflate to passes the route's limit, without holding it."""

from __future__ import annotations

import asyncio
import gzip
import tracemalloc
import zlib
from typing import Any

import orjson
import pytest

from bot.web.whatsapp_webhook import WEBHOOK_MAX_BYTES
from storage.models import Contact, WebhookInbox
from tests.conftest import API_TOKEN
from tests.live import Live
from tests.sockets import connected, exchange, head, read_answer

BOMB = gzip.compress(b"\0" * (9 * 2**20), 9)  # 9 KiB on the wire, 9 MiB inflated
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _deflate(data: bytes, *, raw: bool = False) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def _signed(live: Live, body: bytes, encoding: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "Content-Encoding": encoding,
        "X-Hub-Signature-256": live.cloud.webhooks.signature(body),  # Meta signs what the body says
    }


def _stored(live: Live) -> int:
    return int(live.herald.in_db(lambda: WebhookInbox.select().count()))


@pytest.mark.parametrize(
    ("encoding", "pack"),
    [
        ("gzip", gzip.compress),
        ("deflate", _deflate),
        ("deflate", lambda data: _deflate(data, raw=True)),  # what some clients send as deflate
        ("identity", lambda data: data),
    ],
)
async def test_compressed_bodies_are_read_as_what_they_stand_for(
    live: Live, encoding: str, pack: Any
) -> None:
    contact = orjson.dumps({"phone": "+447911123456", "name": "Asha", "tags": ["vip"]})
    headers = {**AUTH, "Content-Type": "application/json", "Content-Encoding": encoding}
    async with live.client.post("/api/contacts", data=pack(contact), headers=headers) as answer:
        assert answer.status == 201, await answer.text()
        assert (await answer.json())["name"] == "Asha"
    delivery = live.cloud.webhooks.body(messages=[])
    async with live.client.post(
        "/webhooks/whatsapp", data=pack(delivery), headers=_signed(live, delivery, encoding)
    ) as answer:
        assert answer.status == 200, await answer.text()
    csv = b"phone,name\n+447911123457,Ravi\n+447911123458,Mei\n"
    headers = {**AUTH, "Content-Type": "text/csv", "Content-Encoding": encoding}
    async with live.client.post("/api/contacts/import", data=pack(csv), headers=headers) as answer:
        assert answer.status == 200, await answer.text()
        assert (await answer.json())["accepted"] == 2
    assert live.herald.in_db(lambda: Contact.select().count()) == 3


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/webhooks/whatsapp", WEBHOOK_MAX_BYTES),
        ("/api/contacts", 2**20),
        ("/api/contacts/import", 4 * 2**20),
    ],
)
async def test_a_bomb_is_refused_413_as_soon_as_it_inflates_past_the_routes_limit(
    live: Live, path: str, limit: int
) -> None:
    live.herald.settings.import_max_bytes = 4 * 2**20
    headers = {
        **AUTH,
        "Content-Type": "text/csv" if path.endswith("import") else "application/json",
        "Content-Encoding": "gzip",
        "Content-Length": str(len(BOMB)),
        "X-Hub-Signature-256": live.cloud.webhooks.signature(b"whatever"),
    }
    async with connected(live.client) as [(reader, writer)]:
        writer.write(head("POST", path, headers) + BOMB[:-64])  # the last 64 bytes never come
        answer = await read_answer(reader, 5)
    assert answer.status == 413
    assert answer.json()["error"]["code"] == "body_too_large"
    assert f"larger than {limit:,} bytes" in answer.json()["error"]["message"]
    assert _stored(live) == 0
    assert live.herald.in_db(lambda: Contact.select().count()) == 0


BOMBS = 20


@SQLITE_ONLY
async def test_many_bombs_at_once_are_refused_without_being_held_inflated(live: Live) -> None:
    """What the review saw: each refused body was inflated up to the limit first (8 MiB each)."""
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    headers["X-Hub-Signature-256"] = live.cloud.webhooks.signature(b"\0" * (9 * 2**20))
    request = head("POST", "/webhooks/whatsapp", {**headers, "Content-Length": str(len(BOMB))}) + BOMB
    tracemalloc.start()
    try:
        answers = await asyncio.gather(*(exchange(live.client, request) for _ in range(BOMBS)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [a.status for a in answers] == [413] * BOMBS
    assert peak < WEBHOOK_MAX_BYTES  # all of them together: less than one body inflated to the limit
    assert _stored(live) == 0


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, gzip", "x-unknown"])
async def test_an_encoding_herald_does_not_read_is_refused_415_and_changes_nothing(
    live: Live, encoding: str
) -> None:
    body = orjson.dumps({"phone": "+447911123456"})
    for path in ("/api/contacts", "/api/contacts/import", "/webhooks/whatsapp"):
        headers = {**_signed(live, body, encoding), **AUTH}
        async with live.client.post(path, data=body, headers=headers) as answer:
            assert answer.status == 415, path
            error = (await answer.json())["error"]
        assert (error["code"], error["field"]) == ("unsupported_encoding", "Content-Encoding")
        assert "gzip and deflate" in error["message"]
    assert _stored(live) == 0
    assert live.herald.in_db(lambda: Contact.select().count()) == 0


@pytest.mark.parametrize(
    "body",
    [
        b"\x1f\x8b not gzip at all",
        gzip.compress(b'{"phone": "+447911123456"}')[:-12],  # cut short
        gzip.compress(b'{"phone": "+447911123456"}') + b"trailing",
    ],
    ids=["garbage", "truncated", "trailing"],
)
async def test_a_compressed_body_that_does_not_decode_is_refused_400_and_changes_nothing(
    live: Live, body: bytes
) -> None:
    for path in ("/api/contacts", "/webhooks/whatsapp"):
        headers = {**_signed(live, body, "gzip"), **AUTH}
        async with live.client.post(path, data=body, headers=headers) as answer:
            assert answer.status == 400, path
            assert (await answer.json())["error"]["field"] == "body"
    assert _stored(live) == 0
    assert live.herald.in_db(lambda: Contact.select().count()) == 0
