"""CSV uploads that are slow, long-lined or without newlines, through real sockets, on both engines."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

from engine.importer import MAX_LINE_BYTES, LongLine, lines_of
from storage.models import Contact
from tests.conftest import API_TOKEN
from tests.live import Live
from tests.sockets import connected, head, read_answer

STALL = 2.0  # s: the body timeout here (30 s by default)
UPLOADS = 12  # more than the 8 database threads


@pytest.fixture
def live_overrides() -> dict[str, Any]:
    return {"body_timeout_seconds": STALL}


def _upload_head(length: int) -> bytes:
    return head(
        "POST",
        "/api/contacts/import",
        {"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "text/csv", "Content-Length": str(length)},
    )


def _contacts(live: Live) -> int:
    return int(live.herald.in_db(lambda: Contact.select().count()))


async def _import(live: Live, body: bytes) -> tuple[int, Any]:
    return await live.api.post("/api/contacts/import", data=body, headers={"Content-Type": "text/csv"})


async def test_uploads_stalled_on_the_network_hold_no_database_thread(live: Live) -> None:
    live.herald.importer.chunk_rows = 2  # each upload writes two chunks, then waits for the network
    async with connected(live.client, UPLOADS) as uploads:
        for n, (_, writer) in enumerate(uploads):
            rows = "".join(f"+44791{n:02d}0000{i}\n" for i in range(5))
            writer.write(_upload_head(100_000) + b"phone\n" + rows.encode())
        await live.eventually(lambda: Contact.select().count() == UPLOADS * 4)
        answers = [asyncio.create_task(read_answer(reader, STALL + 10)) for reader, _ in uploads]
        async with live.client.get("/healthz") as health:  # needs a database thread
            assert health.status == 200
        delivery = live.cloud.webhooks.body(messages=[])
        assert await live.cloud.webhooks.post_webhook(live.webhook_url, delivery) == 200  # so does this
        assert not any(a.done() for a in answers)  # all answered while every upload still waited
        answered = await asyncio.gather(*answers)
    assert [a.status for a in answered] == [408] * UPLOADS
    assert _contacts(live) == UPLOADS * 4  # what was written stays; the rest never came


async def test_a_line_longer_than_64_kib_is_refused_with_its_number_and_the_rest_imported(
    live: Live,
) -> None:
    long = "+447911000003," + "x" * 70_000
    body = "\n".join(
        [
            "phone,name",
            "+447911000001,Asha",
            "+447911000002,Ravi",
            long,
            "not-a-phone,Mei",
            "+447911000005,Li",
        ]
    )
    status, report = await _import(live, body.encode())
    assert status == 200
    assert report["accepted"] == 3
    assert report["rejected"][0] == {
        "line": 4,
        "reason": f"the line is {len(long):,} bytes long; the limit is {MAX_LINE_BYTES:,}.",
    }
    assert report["rejected"][1]["line"] == 5  # the lines after it keep their numbers
    assert report["rejected_total"] == 2


async def test_a_header_longer_than_64_kib_is_refused_and_changes_nothing(live: Live) -> None:
    status, body = await _import(live, b"phone," + b"x" * MAX_LINE_BYTES + b"\n+447911000001,y\n")
    assert status == 422
    assert "header is longer than 65,536 bytes" in body["error"]["message"]
    assert _contacts(live) == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_body_without_newlines_is_read_through_and_refused_as_one_long_line(live: Live) -> None:
    size = 16 * 2**20
    status, report = await _import(live, b"phone\n+447911000001" + b"0" * size)
    assert status == 200
    assert report["accepted"] == 0
    assert report["rejected"] == [
        {"line": 2, "reason": f"the line is {size + 13:,} bytes long; the limit is {MAX_LINE_BYTES:,}."}
    ]


def test_cutting_lines_holds_no_more_than_one_line_however_long_the_body() -> None:
    """The body without newlines that took quadratic time: every piece was added to all before it."""

    def pieces() -> Iterator[bytes]:
        yield b"phone\n"
        piece = b"7" * 2**16
        for _ in range(1024):  # 64 MiB, no newline
            yield piece
        yield b"\n+447911000001\n"

    tracemalloc.start()
    try:
        lines = list(lines_of(pieces()))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines[0] == "phone\n"
    assert isinstance(lines[1], LongLine)
    assert lines[1].length == 2**26
    assert lines[2] == "+447911000001\n"
    assert peak < 2**20  # the 64 MiB line was counted, never held
