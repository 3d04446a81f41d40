"""A fake WhatsApp Cloud API: a real aiohttp server on 127.0.0.1 speaking Graph's format.

Routes (any ``vNN.N`` version):

- ``POST /{version}/{phone_number_id}/messages``: checks the bearer token
  (190, HTTP 401) and the payload like Meta (``messaging_product``, ``to``
  with a ``+``, ``type``, template name/language/components against its
  catalogue → 100, 131008, 131051, 132000, 132001, 132018), then answers
  ``{"messaging_product", "contacts", "messages": [{"id": wamid}]}``;
- ``GET /{version}/{business_account_id}/message_templates``: the catalogue
  with Graph cursor paging (``limit``, ``after``, ``paging.next``);
- ``GET /stats``: ``{"requests", "cpu_seconds"}`` (this process's CPU).

Injected behaviour, per call or per recipient (``to=``), for ``times`` calls
(None: until cleared): ``fail`` (any Graph code and HTTP status), ``delay``,
``drop`` (accept and record the message, then close, reset or cut off the
connection without a full answer), ``bare`` (an HTML 5xx with no Graph body),
plus ``latency`` on every call and ``failure_mix`` for a random share.

Every request is in ``requests`` and every accepted message in ``accepted``.
``post_statuses``/``deliver_statuses`` post SIGNED status webhooks for
accepted messages to a URL, with duplicates, shuffling, ``read`` without
``delivered`` and the ``biz_opaque_callback_data`` echo.

Standalone for benchmarks: ``python -m tests.fakes.cloud_api --port N``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import random
import re
import resource
import socket
import struct
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from engine.whatsapp.client import CloudApiClient
from engine.whatsapp.messages import TemplateMessage
from engine.whatsapp.samples import SAMPLE_TEMPLATES
from engine.whatsapp.simulate import (
    Catalogue,
    Refusal,
    graph_error,
    messages_value,
    new_wamid,
    status_object,
    webhook,
)
from engine.whatsapp.webhook import SIGNATURE_HEADER, sign

TOKEN = "fake-cloud-api-token"
PHONE_NUMBER_ID = "106540352242922"
BUSINESS_ACCOUNT_ID = "102290129340398"
APP_SECRET = "fake-app-secret"
DISPLAY_NUMBER = "15550783881"
API_VERSION = "v25.0"

# HTTP statuses older copies of Meta's table give; Herald classifies by code anyway.
HTTP_STATUS = {0: 401, 190: 401, 10: 403, 368: 403, 131031: 403, 1: 500, 2: 503}
HTTP_STATUS |= {131000: 500, 131016: 503, 130429: 429, 131056: 400}
DEFAULT_MIX = (131000, 130429, 131026)
_E164 = re.compile(r"\+[1-9]\d{6,14}")


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
class _Mix:
    rate: float
    codes: tuple[int, ...]
    rng: random.Random = field(default_factory=random.Random)


class FakeCloudApi:
    """The fake server: ``async with FakeCloudApi() as fake:``, then use ``fake.url``."""

    def __init__(
        self,
        *,
        token: str = TOKEN,
        phone_number_id: str = PHONE_NUMBER_ID,
        business_account_id: str = BUSINESS_ACCOUNT_ID,
        app_secret: str = APP_SECRET,
        templates: Iterable[Mapping[str, Any]] = SAMPLE_TEMPLATES,
        latency: float = 0.0,
        record: bool = True,
        seed: int = 0,
    ) -> None:
        self.token = token
        self.phone_number_id = phone_number_id
        self.business_account_id = business_account_id
        self.app_secret = app_secret
        self.catalogue = Catalogue(templates)
        self.latency = latency
        self.record = record
        self.requests: list[Recorded] = []
        self.accepted: list[Accepted] = []
        self.rules: list[Rule] = []
        self.count = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self._bearer = f"Bearer {token}"
        self._rng = random.Random(seed)
        self._mix: _Mix | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    # -- lifecycle ----------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL to give a client (``WHATSAPP_API_URL``)."""
        return f"http://127.0.0.1:{self.port}"

    def client(self, **overrides: Any) -> CloudApiClient:
        """A CloudApiClient pointed at this fake (short timeouts unless overridden)."""
        options: dict[str, Any] = {
            "base_url": self.url,
            "api_version": API_VERSION,
            "token": self.token,
            "phone_number_id": self.phone_number_id,
            "business_account_id": self.business_account_id,
            "connect_timeout": 2.0,
            "read_timeout": 5.0,
        }
        return CloudApiClient(**{**options, **overrides})

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/{version}/{number}/messages", self._messages)
        app.router.add_get("/{version}/{account}/message_templates", self._templates)
        app.router.add_get("/stats", self._stats)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeCloudApi:
        # Handlers are cancelled when a client goes away (a timed-out send), so
        # stopping never waits for a long injected delay.
        self._runner = web.AppRunner(
            self.app(), handler_cancellation=True, shutdown_timeout=0.5, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, backlog=1024)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeCloudApi:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- injection ----------------------------------------------------------

    def fail(
        self,
        code: int,
        *,
        http_status: int | None = None,
        to: str | None = None,
        times: int | None = 1,
        message: str | None = None,
        details: str | None = None,
        on: str = "messages",
    ) -> Rule:
        """Answer the next ``times`` calls (to ``to``) with Graph error ``code``."""
        status = http_status if http_status is not None else HTTP_STATUS.get(code, 400)
        return self._add(
            Rule("fail", to, on, times, code, status, message=message, details=details)
        )

    def delay(self, seconds: float, *, to: str | None = None, times: int | None = 1) -> Rule:
        """Wait ``seconds`` before answering the next ``times`` calls (to ``to``)."""
        return self._add(Rule("delay", to, times=times, seconds=seconds))

    def drop(self, *, mode: str = "close", to: str | None = None, times: int | None = 1) -> Rule:
        """Accept and record the next message(s), then lose the answer.

        ``mode``: ``close`` (FIN before any byte), ``reset`` (RST), or
        ``truncate`` (headers and half the body, then FIN).
        """
        if mode not in ("close", "reset", "truncate"):
            raise ValueError("mode is close, reset or truncate")
        return self._add(Rule("drop", to, times=times, mode=mode))

    def bare(
        self,
        http_status: int = 502,
        *,
        body: bytes = b"<html><body>502 Bad Gateway</body></html>",
        to: str | None = None,
        times: int | None = 1,
        on: str = "messages",
    ) -> Rule:
        """Answer with ``http_status`` and a non-Graph (HTML) body, as a proxy would."""
        return self._add(Rule("bare", to, on, times, http_status=http_status, body=body))

    def failure_mix(
        self, rate: float, codes: Sequence[int] = DEFAULT_MIX, *, seed: int = 0
    ) -> None:
        """Refuse a random ``rate`` share of valid sends with a code drawn from ``codes``."""
        self._mix = _Mix(rate, tuple(codes), random.Random(seed)) if rate > 0 else None

    def clear(self) -> None:
        """Forget every injected behaviour (not the logs)."""
        self.rules.clear()
        self._mix = None

    def _add(self, rule: Rule) -> Rule:
        self.rules.append(rule)
        return rule

    # -- inspection ----------------------------------------------------------

    def sends(self) -> list[Recorded]:
        """Every POST to the messages endpoint, accepted or not."""
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/messages")]

    def accepted_by_wamid(self, wamid: str) -> Accepted:
        for message in self.accepted:
            if message.wamid == wamid:
                return message
        raise KeyError(wamid)

    # -- webhooks -------------------------------------------------------------

    def status(
        self,
        message: Accepted | str,
        status: str,
        *,
        code: int | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """A ``statuses[]`` object for an accepted message (by record or wamid)."""
        accepted = message if isinstance(message, Accepted) else self.accepted_by_wamid(message)
        when = at or accepted.at + timedelta(seconds={"sent": 1, "failed": 2}.get(status, 3))
        category = "marketing" if accepted.type == "template" else "service"
        return status_object(
            accepted.wamid,
            status,
            when,
            accepted.to,
            callback=accepted.callback,
            code=code,
            category=category,
        )

    def body(
        self,
        statuses: Sequence[Mapping[str, Any]] = (),
        messages: Sequence[Mapping[str, Any]] = (),
        contacts: Iterable[tuple[str, str]] = (),
    ) -> bytes:
        """A ``messages`` webhook body, serialized like Meta's (compact JSON)."""
        value = messages_value(
            phone_number_id=self.phone_number_id,
            display_phone_number=DISPLAY_NUMBER,
            statuses=statuses,
            messages=messages,
            contacts=contacts,
        )
        return orjson.dumps(
            webhook("messages", value, business_account_id=self.business_account_id)
        )

    def signature(self, body: bytes, secret: str | None = None) -> str:
        return sign(body, secret if secret is not None else self.app_secret)

    async def post_webhook(
        self, url: str, body: bytes, *, secret: str | None = None, signature: str | None = None
    ) -> int:
        """POST ``body`` to ``url`` signed with ``secret`` (default: the app secret).

        ``signature`` overrides the header value; ``signature=""`` sends none.
        Returns the HTTP status the receiver answered.
        """
        header = self.signature(body, secret) if signature is None else signature
        headers = {"Content-Type": "application/json"}
        if header:
            headers[SIGNATURE_HEADER] = header
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.post(url, data=body, headers=headers) as response:
            await response.read()
            return response.status

    async def post_statuses(
        self, url: str, statuses: Sequence[Mapping[str, Any]], *, per_body: int = 1
    ) -> list[int]:
        """Post ``statuses`` in order, ``per_body`` to a body; returns each HTTP status."""
        answers = []
        for i in range(0, len(statuses), per_body):
            answers.append(await self.post_webhook(url, self.body(statuses[i : i + per_body])))
        return answers

    def lifecycle(
        self,
        message: Accepted | str,
        *,
        until: str = "read",
        read_without_delivered: bool = False,
        fail_code: int | None = None,
    ) -> list[dict[str, Any]]:
        """The statuses Meta would send: sent, delivered, read (up to ``until``), or failed."""
        if fail_code is not None:
            return [self.status(message, "failed", code=fail_code)]
        chain = ["sent", "delivered", "read"]
        chain = chain[: chain.index(until) + 1]
        if read_without_delivered and "read" in chain:
            chain.remove("delivered")
        return [self.status(message, s) for s in chain]

    async def deliver_statuses(
        self,
        url: str,
        *,
        wamids: Iterable[str] | None = None,
        until: str = "read",
        failures: Mapping[str, int] | None = None,
        read_without_delivered: Iterable[str] = (),
        duplicates: float = 0.0,
        shuffle: bool = False,
        per_body: int = 1,
        seed: int = 0,
    ) -> list[int]:
        """Post the lifecycle of each accepted message (or of ``wamids``).

        ``failures`` maps wamid → code; ``duplicates`` is the share of
        statuses posted twice; ``shuffle`` posts them in random order.
        """
        rng = random.Random(seed)
        failures = failures or {}
        skip_delivered = set(read_without_delivered)
        chosen = list(wamids) if wamids is not None else [m.wamid for m in self.accepted]
        statuses: list[dict[str, Any]] = []
        for wamid in chosen:
            statuses += self.lifecycle(
                wamid,
                until=until,
                read_without_delivered=wamid in skip_delivered,
                fail_code=failures.get(wamid),
            )
        statuses += [s for s in statuses if rng.random() < duplicates]
        if shuffle:
            rng.shuffle(statuses)
        return await self.post_statuses(url, statuses, per_body=per_body)

    # -- handlers ----------------------------------------------------------------

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        self.count += 1
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            return await self._message(request)
        finally:
            self.in_flight -= 1

    async def _message(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            payload: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            payload = None
        self._record(request, payload)
        if self.latency:
            await asyncio.sleep(self.latency)
        to = payload.get("to") if isinstance(payload, dict) else None
        refusal = self._gate(request, "number", self.phone_number_id)
        if refusal is None:
            for delay in self.rules:
                if delay.action == "delay" and delay.matches("messages", to):
                    delay.consume()
                    await asyncio.sleep(delay.seconds)
            refusal = self._check_message(payload)
        if refusal is None and self._mix is not None and self._mix.rng.random() < self._mix.rate:
            code = self._mix.rng.choice(self._mix.codes)
            refusal = Refusal(code, "", HTTP_STATUS.get(code, 400))
        if refusal is not None:
            return _error(refusal)
        rule = next(
            (r for r in self.rules if r.action != "delay" and r.matches("messages", to)), None
        )
        if rule is not None and rule.action != "drop":
            rule.consume()
            return _injected(rule)
        body = self._accept(payload)
        if rule is not None:
            rule.consume()
            return await _lose_answer(request, rule.mode, body)
        return web.Response(body=body, content_type="application/json")

    def _accept(self, payload: dict[str, Any]) -> bytes:
        """Record the message and build Meta's answer to it."""
        wamid = new_wamid(payload["to"], self._rng)
        if self.record:
            message = Accepted(wamid, payload["to"], payload["type"], payload, datetime.now(UTC))
            self.accepted.append(message)
        answer: dict[str, Any] = {"id": wamid}
        if payload["type"] == "template":
            answer["message_status"] = "accepted"
        return orjson.dumps(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": payload["to"], "wa_id": payload["to"].lstrip("+")}],
                "messages": [answer],
            }
        )

    def _gate(self, request: web.Request, key: str, expected: str) -> Refusal | None:
        """Meta checks the token first, then that the object in the path exists."""
        if request.headers.get("Authorization") != self._bearer:
            return Refusal(190, "Invalid OAuth access token - Cannot parse access token", 401)
        if request.match_info[key] != expected:
            return _unknown_object(request.match_info[key])
        return None

    async def _templates(self, request: web.Request) -> web.StreamResponse:
        self.count += 1
        self._record(request, None)
        if self.latency:
            await asyncio.sleep(self.latency)
        if request.headers.get("Authorization") != self._bearer:
            return _error(
                Refusal(190, "Invalid OAuth access token - Cannot parse access token", 401)
            )
        if request.match_info["account"] != self.business_account_id:
            return _error(_unknown_object(request.match_info["account"]))
        rule = next((r for r in self.rules if r.matches("templates", None)), None)
        if rule is not None:
            rule.consume()
            return _injected(rule)
        try:
            limit = min(max(int(request.query.get("limit", "25")), 1), 1000)
            start = _offset(request.query.get("after"))
        except ValueError:
            return _error(Refusal(100, "Invalid parameter"))
        fields = [f for f in request.query.get("fields", "").split(",") if f]
        everything = self.catalogue.templates
        page = everything[start : start + limit]
        data = [{k: t[k] for k in fields if k in t} if fields else t for t in page]
        answer: dict[str, Any] = {"data": data}
        if page:
            end = start + len(page)
            answer["paging"] = {"cursors": {"before": _cursor(start), "after": _cursor(end)}}
            if end < len(everything):
                query = {**request.query, "after": _cursor(end)}
                answer["paging"]["next"] = str(request.url.with_query(query))
        return web.Response(body=orjson.dumps(answer), content_type="application/json")

    async def _stats(self, request: web.Request) -> web.Response:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        stats = {"requests": self.count, "cpu_seconds": usage.ru_utime + usage.ru_stime}
        return web.Response(body=orjson.dumps(stats), content_type="application/json")

    def _record(self, request: web.Request, payload: Any) -> None:
        if self.record:
            self.requests.append(
                Recorded(
                    request.method,
                    request.path,
                    dict(request.query),
                    dict(request.headers),
                    payload,
                    time.monotonic(),
                )
            )

    def _check_message(self, payload: Any) -> Refusal | None:
        """What Meta refuses in a messages POST, checked in Meta's order."""
        if not isinstance(payload, dict):
            return Refusal(100, "Invalid parameter")
        refusal = _envelope_problem(payload)
        if refusal is not None:
            return refusal
        kind = payload.get("type")
        if kind == "template":
            return self.catalogue.check(payload.get("template"))
        if kind == "text":
            text = payload.get("text")
            body = text.get("body") if isinstance(text, dict) else None
            valid = isinstance(body, str) and bool(body.strip())
            return None if valid else Refusal(131008, "The parameter text.body is required.")
        if kind is None:
            return Refusal(131008, "The parameter type is required.")
        return Refusal(131051, "Unsupported message type")


def _envelope_problem(payload: dict[str, Any]) -> Refusal | None:
    to = payload.get("to")
    callback = payload.get("biz_opaque_callback_data")
    checks = (
        (payload.get("messaging_product") != "whatsapp", 100, "messaging_product is required"),
        (payload.get("recipient_type", "individual") != "individual", 100, "bad recipient_type"),
        (not isinstance(to, str) or not to, 131008, "The parameter to is required."),
        # Stricter than Meta, which prepends the sender's own country code to a
        # number without "+" and may reach a stranger: Herald must always send it.
        (not _E164.fullmatch(str(to or "")), 100, "to must be E.164 with a leading +"),
        (
            callback is not None and (not isinstance(callback, str) or len(callback) > 512),
            100,
            "biz_opaque_callback_data must be a string of at most 512 characters",
        ),
    )
    return next((Refusal(code, text) for failed, code, text in checks if failed), None)


def _error(refusal: Refusal) -> web.Response:
    envelope = graph_error(refusal.code, refusal.message or None)
    return web.Response(
        body=orjson.dumps(envelope), status=refusal.http_status, content_type="application/json"
    )


def _injected(rule: Rule) -> web.Response:
    if rule.action == "bare":
        return web.Response(body=rule.body, status=rule.http_status, content_type="text/html")
    envelope = graph_error(rule.code, rule.message, rule.details)
    return web.Response(
        body=orjson.dumps(envelope), status=rule.http_status, content_type="application/json"
    )


def _unknown_object(object_id: str) -> Refusal:
    return Refusal(
        100,
        f"Unsupported post request. Object with ID '{object_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation",
    )


async def _lose_answer(request: web.Request, mode: str, body: bytes) -> web.StreamResponse:
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


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    if not text.startswith("offset:"):
        raise ValueError(cursor)
    return int(text.removeprefix("offset:"))


def main(argv: Sequence[str] | None = None) -> None:
    """Run the fake until interrupted; prints ``listening on <url>`` once ready."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.cloud_api")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--token", default=TOKEN)
    parser.add_argument("--record", action="store_true", help="keep a log of every request")
    args = parser.parse_args(argv)

    async def serve() -> None:
        fake = FakeCloudApi(token=args.token, latency=args.latency, record=args.record)
        await fake.start(args.host, args.port)
        print(f"listening on http://{args.host}:{fake.port}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await fake.stop()

    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is not on Windows
        asyncio.run(serve())
    else:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(serve())


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
