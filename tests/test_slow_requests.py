"""Slow and vanishing clients, through real sockets: heads that never end, bodies that stall, uploads
dropped halfway. The timeouts are set to half a second here (the defaults are 10 s and 30 s)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from storage.models import WebhookInbox
from tests.conftest import API_TOKEN
from tests.live import Live
from tests.sockets import closed_by_server, connected, head, read_answer

TIMEOUT = 0.5
BOUND = 5.0  # every wait below ends well before this, or the test fails
BODY_ROUTES = ["/webhooks/whatsapp", "/api/contacts", "/api/contacts/import"]

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # no engine involved


@pytest.fixture
def live_overrides() -> dict[str, Any]:
    return {"header_timeout_seconds": TIMEOUT, "body_timeout_seconds": TIMEOUT}


def _post_head(path: str, length: int) -> bytes:
    return head(
        "POST",
        path,
        {
            "Content-Type": "text/csv" if path.endswith("import") else "application/json",
            "Content-Length": str(length),
            "Authorization": f"Bearer {API_TOKEN}",
            "X-Hub-Signature-256": "sha256=" + "0" * 64,
        },
    )


async def test_connections_that_never_finish_their_head_are_closed_at_the_header_timeout(live: Live) -> None:
    async with connected(live.client, 2) as [silent, unfinished]:
        started = time.monotonic()
        unfinished[1].write(_post_head("/webhooks/whatsapp", 10)[:-6])  # the head, cut short
        for reader, _ in (silent, unfinished):
            assert await closed_by_server(reader, BOUND) == b""  # closed, and nothing answered
        assert time.monotonic() - started >= TIMEOUT * 0.8


async def test_a_head_sent_a_byte_at_a_time_does_not_keep_its_connection(live: Live) -> None:
    async with connected(live.client) as [(reader, writer)]:
        started = time.monotonic()

        async def drip() -> None:
            for byte in head("GET", "/healthz", {"X-Padding": "x" * 200}):
                writer.write(bytes([byte]))
                await asyncio.sleep(0.05)  # 250 bytes: 12 s if the server waited for them all

        dripping = asyncio.create_task(drip())
        try:
            assert await closed_by_server(reader, BOUND) == b""
        finally:
            dripping.cancel()
        assert time.monotonic() - started < BOUND


async def test_two_hundred_slow_heads_are_all_let_go_and_healthz_answers_meanwhile(live: Live) -> None:
    server = live.client.server.runner.server  # type: ignore[union-attr]
    assert server is not None
    async with connected(live.client, 200) as opened:
        for _, writer in opened:
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: herald.test\r\n")
        async with live.client.get("/healthz") as answer:  # a well-behaved client is still served
            assert answer.status == 200
        deadline = time.monotonic() + BOUND
        while len(server.connections) > 1 and time.monotonic() < deadline:  # 1: the test client's
            await asyncio.sleep(0.05)
        assert len(server.connections) <= 1
        for reader, _ in opened:
            assert await closed_by_server(reader, BOUND) == b""


async def test_requests_on_a_kept_alive_connection_are_answered(live: Live) -> None:
    async with connected(live.client) as [(reader, writer)]:
        for _ in range(3):
            writer.write(head("GET", "/healthz"))
            assert (await read_answer(reader, BOUND)).status == 200


@pytest.mark.parametrize("path", BODY_ROUTES)
async def test_a_body_that_stalls_is_answered_408_and_its_connection_closed(live: Live, path: str) -> None:
    async with connected(live.client) as [(reader, writer)]:
        writer.write(_post_head(path, 1000) + b'{"phone": ')  # and then nothing more
        started = time.monotonic()
        answer = await read_answer(reader, BOUND)
        assert answer.status == 408
        error = answer.json()["error"]
        assert error["code"] == "body_timeout"
        assert "no part of the body arrived for 0.5 s" in error["message"]
        assert answer.headers["connection"] == "close"
        assert await closed_by_server(reader, BOUND) == b""
        assert time.monotonic() - started < BOUND
    assert live.herald.in_db(lambda: WebhookInbox.select().count()) == 0


@pytest.mark.parametrize("path", BODY_ROUTES)
async def test_a_client_that_leaves_mid_body_is_one_log_line_without_a_traceback(
    live: Live, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with connected(live.client) as [(_, writer)]:
        writer.write(_post_head(path, 1000) + b"phone\n+4479")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.transport.abort()
    deadline = time.monotonic() + BOUND
    gone: list[logging.LogRecord] = []
    while not gone and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        gone = [r for r in caplog.records if "closed the connection" in r.getMessage()]
    await asyncio.sleep(0.1)  # anything else it would log comes now
    assert len(gone) == 1, [(r.name, r.levelname, r.getMessage()) for r in caplog.records]
    line = gone[0].getMessage()
    assert gone[0].levelno == logging.INFO
    assert path in line
    assert "(11 of 1,000 bytes)" in line
    assert [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info] == []
    assert live.herald.in_db(lambda: WebhookInbox.select().count()) == 0
