"""What the fake Cloud API records, and the behaviour a test injects into it."""

from __future__ import annotations

import asyncio
import random
import socket
import struct
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from aiohttp import web

from engine.whatsapp.messages import TemplateMessage
from engine.whatsapp.simulate import graph_error

# HTTP statuses older copies of Meta's table give; Herald classifies by code anyway.
HTTP_STATUS = {0: 401, 190: 401, 10: 403, 368: 403, 131031: 403, 1: 500, 2: 503}
HTTP_STATUS |= {131000: 500, 131016: 503, 130429: 429, 131056: 400}
DEFAULT_MIX = (131000, 130429, 131026)


def welcome_message(to: str = "+919812345678", callback: str = "4711") -> TemplateMessage:
    """A send the fake's catalogue accepts: ``welcome_offer`` with its {{first_name}}."""
    parameter = {"type": "text", "text": "Asha", "parameter_name": "first_name"}
    return TemplateMessage(
        to=to,
        template="welcome_offer",
        language="en",
        components=[{"type": "body", "parameters": [parameter]}],
        callback=callback,
    )


@dataclass
class Recorded:
    """One request as the fake saw it. ``json`` is None when the body was not JSON."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    at: float  # time.monotonic()


@dataclass
class Accepted:
    """A message the fake accepted (answered with a wamid, or dropped after accepting)."""

    wamid: str
    to: str
    type: str
    payload: dict[str, Any]
    at: datetime

    @property
    def template(self) -> str | None:
        return self.payload.get("template", {}).get("name") if self.type == "template" else None

    @property
    def callback(self) -> str | None:
        return self.payload.get("biz_opaque_callback_data")


@dataclass
class Rule:
    """One injected behaviour; ``times`` None means until ``clear()``."""

    action: str  # fail | delay | drop | bare
    to: str | None = None
    on: str = "messages"  # messages | templates
    times: int | None = 1
    code: int = 0
    http_status: int = 400
    message: str | None = None
    details: str | None = None
    seconds: float = 0.0
    mode: str = "close"  # for drop: close | reset | truncate
    body: bytes = b""

    def matches(self, on: str, to: str | None) -> bool:
        return self.on == on and self.times != 0 and (self.to is None or self.to == to)

    def consume(self) -> None:
        if self.times is not None:
            self.times -= 1


@dataclass
class FailureMix:
    """A random ``rate`` share of valid sends is refused with a code from ``codes``."""

    rate: float
    codes: tuple[int, ...]
    rng: random.Random = field(default_factory=random.Random)


def injected(rule: Rule) -> web.Response:
    """The answer a ``fail`` or ``bare`` rule gives."""
    if rule.action == "bare":
        return web.Response(body=rule.body, status=rule.http_status, content_type="text/html")
    envelope = graph_error(rule.code, rule.message, rule.details)
    return web.Response(body=orjson.dumps(envelope), status=rule.http_status, content_type="application/json")


async def lose_answer(request: web.Request, mode: str, body: bytes) -> web.StreamResponse:
    """Close the connection without a complete answer; the handler is then cancelled."""
    transport = request.transport
    assert transport is not None
    if mode == "truncate":
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[: len(body) // 2])
        await asyncio.sleep(0.01)  # let the half body leave before the FIN
    elif mode == "reset":
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.close()
    await asyncio.sleep(3600)
    raise AssertionError("unreachable: the handler is cancelled when the connection closes")
