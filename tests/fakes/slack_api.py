"""A fake Slack Web API: a real aiohttp server on 127.0.0.1 answering in Slack's formats.

Routes:

- ``/api/{method}`` (any verb; arguments from the query, a form or a JSON body),
  checking ``Authorization: Bearer <bot token>`` like Slack (``not_authed``,
  ``invalid_auth``, HTTP 200): ``auth.test``, ``chat.postMessage``,
  ``chat.update``, ``chat.postEphemeral``, ``users.info`` (GET),
  ``files.getUploadURLExternal``, ``files.completeUploadExternal``; anything
  else is ``unknown_method``. Messages with blocks over Slack's limits are
  refused with ``invalid_blocks``, as Slack does.
- ``POST /upload/{file_id}``: the raw upload ``files.getUploadURLExternal`` points at.
- ``POST /respond/{key}``: a ``response_url`` (``response_url(key)`` makes one).

Every call is in ``calls`` (``of(method)`` filters), every message it holds in
``messages`` by ``(channel, ts)``, every ``response_url`` post in
``responses``. ``rate_limit(method)`` answers the next calls with HTTP 429
and ``Retry-After``; ``fail(method, error)`` with ``{"ok": false, "error"}``;
``unreachable`` channels answer ``not_in_channel``.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

BOT_TOKEN = "xoxb-fake-bot-token"
TEAM = "T0HERALD"
BOT_USER = "U0HERALDBOT"
MAX_BLOCKS, SECTION_TEXT, HEADER_TEXT = 50, 3000, 150


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class Rule:
    method: str
    status: int  # 429, or 200 with an error
    error: str
    times: int
    retry_after: int = 0


class FakeSlackApi:
    def __init__(self, *, token: str = BOT_TOKEN, zones: dict[str, str] | None = None) -> None:
        self.token = token
        self.zones = dict(zones or {})  # user id -> IANA tz for users.info
        self.unreachable: set[str] = set()
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.responses: list[tuple[str, dict[str, Any]]] = []
        self.uploads: dict[str, bytes] = {}
        self.rules: list[Rule] = []
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, key: str) -> str:
        return f"{self.base}/respond/{key}"

    async def __aenter__(self) -> FakeSlackApi:
        return await self.start()

    async def start(self, port: int = 0) -> FakeSlackApi:
        """Listen on 127.0.0.1 (``port`` 0: any free one)."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/respond/{key}", self._respond)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- injection and reading -----------------------------------------------------------

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        self.rules.append(Rule(method, 429, "ratelimited", times, retry_after))

    def fail(self, method: str, error: str, *, times: int = 1) -> None:
        self.rules.append(Rule(method, 200, error, times))

    def of(self, method: str, **matching: Any) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method and all(c.args.get(k) == v for k, v in matching.items())
        ]

    def answered(self, key: str) -> list[dict[str, Any]]:
        return [body for k, body in self.responses if k == key]

    async def wait(self, check: Any, timeout: float = 10.0) -> Any:
        """Poll ``check()`` until it returns something truthy (async effects, never business time)."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"the fake Slack API never saw it within {timeout} s")
            await asyncio.sleep(0.02)

    # -- handlers ---------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        raw = await request.read()
        if raw:
            if request.content_type == "application/json":
                args.update(orjson.loads(raw))
            else:
                args.update(parse_qsl(raw.decode(), keep_blank_values=True))
        for key in ("blocks", "files"):
            if isinstance(args.get(key), str):
                args[key] = orjson.loads(args[key])
        self.calls.append(Call(method, args))
        given = request.headers.get("Authorization", "")
        if not given:
            return _json({"ok": False, "error": "not_authed"})
        if given != f"Bearer {self.token}":
            return _json({"ok": False, "error": "invalid_auth"})
        for rule in self.rules:
            if rule.method == method and rule.times > 0:
                rule.times -= 1
                headers = {"Retry-After": str(rule.retry_after)} if rule.status == 429 else {}
                return _json({"ok": False, "error": rule.error}, status=rule.status, headers=headers)
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return _json({"ok": False, "error": "unknown_method"})
        return _json(handler(args))

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "team_id": TEAM, "user_id": BOT_USER, "bot_id": "B0HERALD", "team": "Herald"}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel", ""))
        problem = self._refusal(channel, args)
        if problem:
            return {"ok": False, "error": problem}
        if channel.startswith("U"):  # a DM to a person opens their IM channel
            channel = "D" + channel[1:]
        ts = self._next_ts()
        message = {"ts": ts, "text": args.get("text", ""), "blocks": args.get("blocks", []), "edits": 0}
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        key = (str(args.get("channel", "")), str(args.get("ts", "")))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        problem = self._refusal(key[0], args)
        if problem:
            return {"ok": False, "error": problem}
        message = self.messages[key]
        message.update(text=args.get("text", ""), blocks=args.get("blocks", []), edits=message["edits"] + 1)
        return {"ok": True, "channel": key[0], "ts": key[1], "text": message["text"]}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        problem = self._refusal(str(args.get("channel", "")), args)
        if problem:
            return {"ok": False, "error": problem}
        return {"ok": True, "message_ts": self._next_ts()}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user", ""))
        if user not in self.zones:
            return {"ok": False, "error": "user_not_found"}
        return {
            "ok": True,
            "user": {"id": user, "name": user.lower(), "tz": self.zones[user], "tz_offset": 0},
        }

    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ts):08d}"
        return {"ok": True, "upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files") or []
        unknown = [f["id"] for f in files if f["id"] not in self.uploads]
        if unknown or not files:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        return web.Response(text=f"OK - {len(self.uploads[request.match_info['file_id']])}")

    async def _respond(self, request: web.Request) -> web.Response:
        self.responses.append((request.match_info["key"], orjson.loads(await request.read())))
        return web.Response(text="ok")

    # -- Slack's rules ------------------------------------------------------------------

    def _refusal(self, channel: str, args: dict[str, Any]) -> str | None:
        if not channel:
            return "channel_not_found"
        if channel in self.unreachable:
            return "not_in_channel"
        blocks = args.get("blocks") or []
        if not blocks and not args.get("text"):
            return "no_text"
        return None if _blocks_fit(blocks) else "invalid_blocks"

    def _next_ts(self) -> str:
        n = next(self._ts)
        return f"{1_780_000_000 + n}.{n:06d}"


def _blocks_fit(blocks: list[dict[str, Any]]) -> bool:
    if len(blocks) > MAX_BLOCKS:
        return False
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if block.get("type") == "section" and len(text) > SECTION_TEXT:
            return False
        if block.get("type") == "header" and len(text) > HEADER_TEXT:
            return False
    return True


def _json(body: dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", headers=headers or {}
    )
