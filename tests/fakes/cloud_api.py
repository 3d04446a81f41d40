"""A fake WhatsApp Cloud API: a real aiohttp server on 127.0.0.1 speaking Graph's format.

Routes (any ``vNN.N`` version):

- ``POST /{version}/{phone_number_id}/messages``: checks the bearer token
  (190, HTTP 401) and the payload like Meta (``messaging_product``, ``to``
  with a ``+``, ``type``, template name/language/components against its
  catalogue → 100, 131008, 131051, 132000, 132001, 132018), then answers
  ``{"messaging_product", "contacts", "messages": [{"id": wamid}]}``;
- ``GET /{version}/{business_account_id}/message_templates``: the catalogue
  with Graph cursor paging (``limit``, ``after``, ``paging.next``);
- ``GET /{version}/{phone_number_id}?fields=...``: the phone number's fields Meta
  would answer, ``whatsapp_business_manager_messaging_limit`` among them (the tier in
  ``messaging_limit``, ``TIER_UNLIMITED`` unless a test sets another);
- ``GET /stats``: ``{"requests", "cpu_seconds"}`` (this process's CPU).

Injected behaviour, per call or per recipient (``to=``), for ``times`` calls
(None: until cleared): ``fail`` (any Graph code and HTTP status), ``delay``,
``drop`` (accept and record the message, then close, reset or cut off the
connection without a full answer), ``bare`` (an HTML 5xx with no Graph body),
plus ``latency`` on every call and ``failure_mix`` for a random share.

Every request is in ``requests`` and every accepted message in ``accepted``.
``webhooks`` (a StatusWebhooks) posts SIGNED status webhooks for accepted
messages to a URL, with duplicates, shuffling, ``read`` without
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
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from engine.whatsapp.client import CloudApiClient
from engine.whatsapp.samples import SAMPLE_TEMPLATES
from engine.whatsapp.simulate import Catalogue, Refusal, graph_error, new_wamid
from tests.fakes.behaviour import (
    DEFAULT_MIX,
    HTTP_STATUS,
    Accepted,
    FailureMix,
    Recorded,
    Rule,
    injected,
    lose_answer,
    welcome_message,
)
from tests.fakes.status_webhooks import StatusWebhooks

__all__ = ["Accepted", "FakeCloudApi", "Recorded", "Rule", "welcome_message"]

TOKEN = "fake-cloud-api-token"
PHONE_NUMBER_ID = "106540352242922"
BUSINESS_ACCOUNT_ID = "102290129340398"
APP_SECRET = "fake-app-secret"
API_VERSION = "v25.0"

_E164 = re.compile(r"\+[1-9]\d{6,14}")
_USER_ID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")


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
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.token = token
        self.now = now or (lambda: datetime.now(UTC))  # when messages are accepted (status times)
        self.phone_number_id = phone_number_id
        self.business_account_id = business_account_id
        self.app_secret = app_secret
        self.catalogue = Catalogue(templates)
        self.latency = latency
        self.record = record
        self.requests: list[Recorded] = []
        self.accepted: list[Accepted] = []
        self.rules: list[Rule] = []
        self.messaging_limit = "TIER_UNLIMITED"  # the business's tier, as Meta names it
        self.count = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self._bearer = f"Bearer {token}"
        self._rng = random.Random(seed)
        self._mix: FailureMix | None = None
        self._runner: web.AppRunner | None = None
        self.webhooks = StatusWebhooks(
            accepted=self.accepted,
            phone_number_id=phone_number_id,
            business_account_id=business_account_id,
            app_secret=app_secret,
        )
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
        app.router.add_get("/{version}/{number}", self._number)
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
        await self.webhooks.close()
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
        return self._add(Rule("fail", to, on, times, code, status, message=message, details=details))

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

    def failure_mix(self, rate: float, codes: Sequence[int] = DEFAULT_MIX, *, seed: int = 0) -> None:
        """Refuse a random ``rate`` share of valid sends with a code drawn from ``codes``."""
        self._mix = FailureMix(rate, tuple(codes), random.Random(seed)) if rate > 0 else None

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
        return self.webhooks.find(wamid)

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
        rule = next((r for r in self.rules if r.action != "delay" and r.matches("messages", to)), None)
        if rule is not None and rule.action != "drop":
            rule.consume()
            return injected(rule)
        body = self._accept(payload)
        if rule is not None:
            rule.consume()
            return await lose_answer(request, rule.mode, body)
        return web.Response(body=body, content_type="application/json")

    def _accept(self, payload: dict[str, Any]) -> bytes:
        """Record the message and build Meta's answer to it."""
        to = payload.get("to") or payload["recipient"]  # a phone, or a business-scoped user id
        wamid = new_wamid(to, self._rng)
        if self.record:
            message = Accepted(wamid, to, payload["type"], payload, self.now())
            self.accepted.append(message)
        answer: dict[str, Any] = {"id": wamid}
        if payload["type"] == "template":
            answer["message_status"] = "accepted"
        # Meta: wa_id for a send to a phone number, user_id for a send to a BSUID
        contact = {"input": to, "wa_id": to.lstrip("+")} if "to" in payload else {"input": to, "user_id": to}
        return orjson.dumps({"messaging_product": "whatsapp", "contacts": [contact], "messages": [answer]})

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
            return _error(Refusal(190, "Invalid OAuth access token - Cannot parse access token", 401))
        if request.match_info["account"] != self.business_account_id:
            return _error(_unknown_object(request.match_info["account"]))
        rule = next((r for r in self.rules if r.matches("templates", None)), None)
        if rule is not None:
            rule.consume()
            return injected(rule)
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

    async def _number(self, request: web.Request) -> web.StreamResponse:
        """The phone number node: ``id`` and the fields asked for that Meta has (others are 100).
        Not in ``count``, which the benches read as sends."""
        self._record(request, None)
        refusal = self._gate(request, "number", self.phone_number_id)
        if refusal is not None:
            return _error(refusal)
        rule = next((r for r in self.rules if r.matches("number", None)), None)
        if rule is not None:
            rule.consume()
            return injected(rule)
        known = {
            "id": self.phone_number_id,
            "display_phone_number": "15550001234",
            "verified_name": "Herald Test",
            "quality_rating": "GREEN",
            "whatsapp_business_manager_messaging_limit": self.messaging_limit,
        }
        fields = [f for f in request.query.get("fields", "").split(",") if f] or ["id"]
        unknown = [f for f in fields if f not in known]
        if unknown:
            return _error(Refusal(100, f"(#100) Tried accessing nonexisting field ({unknown[0]})"))
        answer = {f: known[f] for f in fields}
        answer.setdefault("id", self.phone_number_id)
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

    def _check_template(self, payload: dict[str, Any], template: Any) -> Refusal | None:
        refusal = self.catalogue.check(template)
        if refusal is not None or "recipient" not in payload:
            return refusal
        found = self.catalogue.get(template["name"], template["language"]["code"])  # checked above
        if found is not None and str(found.get("category")).upper() == "AUTHENTICATION":
            # one-tap, zero-tap and copy-code authentication still need a phone number (Meta)
            return Refusal(131062, "Business-scoped User ID recipients are not supported for this message.")
        return None

    def _check_message(self, payload: Any) -> Refusal | None:
        """What Meta refuses in a messages POST, checked in Meta's order."""
        if not isinstance(payload, dict):
            return Refusal(100, "Invalid parameter")
        refusal = _envelope_problem(payload)
        if refusal is not None:
            return refusal
        kind = payload.get("type")
        if kind == "template":
            return self._check_template(payload, payload.get("template"))
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
    recipient = payload.get("recipient")  # a business-scoped user id, when there is no "to"
    by_user_id = to is None and recipient is not None
    callback = payload.get("biz_opaque_callback_data")
    checks = (
        (payload.get("messaging_product") != "whatsapp", 100, "messaging_product is required"),
        (payload.get("recipient_type", "individual") != "individual", 100, "bad recipient_type"),
        (to is not None and recipient is not None, 100, "send either to or recipient (to wins), not both"),
        (by_user_id and not _USER_ID.fullmatch(str(recipient)), 100, "recipient must be a BSUID"),
        (not by_user_id and (not isinstance(to, str) or not to), 131008, "The parameter to is required."),
        # Stricter than Meta, which prepends the sender's own country code to a
        # number without "+" and may reach a stranger: Herald must always send it.
        (not by_user_id and not _E164.fullmatch(str(to or "")), 100, "to must be E.164 with a leading +"),
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


def _unknown_object(object_id: str) -> Refusal:
    return Refusal(
        100,
        f"Unsupported post request. Object with ID '{object_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation",
    )


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
    parser.add_argument(
        "--seed", type=int, default=0, help="seeds the wamids: give each run its own against one database"
    )
    args = parser.parse_args(argv)

    async def serve() -> None:
        fake = FakeCloudApi(token=args.token, latency=args.latency, record=args.record, seed=args.seed)
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
