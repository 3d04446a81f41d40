"""Raw HTTP/1.1 over a real socket, for what a well-behaved client cannot send.

A request head a byte at a time, a body that stops, a connection dropped
mid-body, header bytes that are not ASCII: the running app is reached the way
an attacker reaches it, and every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp.test_utils import TestClient


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def connect(client: TestClient) -> Connection:
    return await asyncio.open_connection(client.host, client.port)


@contextlib.asynccontextmanager
async def connected(client: TestClient, count: int = 1) -> AsyncIterator[list[Connection]]:
    """``count`` connections to the app, closed on the way out."""
    opened = [await connect(client) for _ in range(count)]
    try:
        yield opened
    finally:
        for _, writer in opened:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def head(method: str, path: str, headers: dict[str, str | bytes] | None = None) -> bytes:
    """A request head; header values given as bytes go out exactly as they are."""
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: herald.test"]
    for name, value in (headers or {}).items():
        lines.append(name.encode() + b": " + (value if isinstance(value, bytes) else value.encode()))
    return b"\r\n".join(lines) + b"\r\n\r\n"


async def read_answer(reader: asyncio.StreamReader, timeout: float = 10.0) -> Answer:
    """One response: its head, then a Content-Length body (or everything up to the close)."""
    raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    status_line, *header_lines = raw.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    length = headers.get("content-length")
    if length is not None:
        body = await asyncio.wait_for(reader.readexactly(int(length)), timeout)
    else:
        body = await asyncio.wait_for(reader.read(), timeout)
    return Answer(int(status_line.split()[1]), headers, body)


async def exchange(client: TestClient, request: bytes, timeout: float = 10.0) -> Answer:
    """Send ``request`` as it is on a new connection and read the one answer."""
    async with connected(client) as [(reader, writer)]:
        writer.write(request)
        await writer.drain()
        return await read_answer(reader, timeout)


async def closed_by_server(reader: asyncio.StreamReader, timeout: float) -> bytes:
    """Everything the server sends until it closes the connection (raises TimeoutError if it
    is still open after ``timeout`` s)."""
    return await asyncio.wait_for(reader.read(), timeout)
