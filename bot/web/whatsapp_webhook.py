"""``/webhooks/whatsapp``: Meta's handshake, and signed deliveries written durably before the 200.

A POST is checked (signature over the raw body, in constant time; then the
body's shape), written to the inbox by a group commit that many concurrent
deliveries share, answered 200, and applied shortly after by the inbox
processor. Meta retries unanswered deliveries for days, so answering fast
matters more than applying fast; and nothing is applied that was not first
stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from typing import Any

from aiohttp import web

from bot.container import Herald
from bot.errors import Unauthorized
from bot.web.http import ascii_header, read_body
from bot.web.keys import HERALD, INBOX_WRITER
from engine.whatsapp.webhook import SIGNATURE_HEADER, parse, verify_signature
from storage import inbox
from storage.database import is_postgres

log = logging.getLogger("herald.webhook")
routes = web.RouteTableDef()


@routes.get("/webhooks/whatsapp")
async def handshake(request: web.Request) -> web.Response:
    """Meta's subscription check: echo ``hub.challenge`` when the verify token matches."""
    settings = request.app[HERALD].settings
    expected = settings.whatsapp_verify_token.get_secret_value() if settings.whatsapp_verify_token else ""
    mode = request.query.get("hub.mode", "")
    token = request.query.get("hub.verify_token", "")
    challenge = request.query.get("hub.challenge", "")
    if mode == "subscribe" and expected and hmac.compare_digest(token.encode(), expected.encode()):
        return web.Response(text=challenge)
    return web.Response(status=403, text="verify token mismatch")


@routes.post("/webhooks/whatsapp")
async def deliver(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    secret = herald.settings.whatsapp_app_secret
    if secret is None or not secret.get_secret_value():
        raise Unauthorized(
            "webhook deliveries are refused because WHATSAPP_APP_SECRET is not set.",
            hint="Set it to your Meta app's secret.",
        )
    body = await read_body(request, limit=WEBHOOK_MAX_BYTES)
    if not verify_signature(body, ascii_header(request, SIGNATURE_HEADER), secret.get_secret_value()):
        raise Unauthorized("the X-Hub-Signature-256 header does not match the body.")
    parse(body)  # raises MalformedWebhook (400) before anything is stored
    await request.app[INBOX_WRITER].put(body)
    return web.Response(text="ok")


WEBHOOK_MAX_BYTES = 8 * 1024 * 1024  # Meta sends up to 1,000 updates in one POST


class InboxWriter:
    """Group commit: deliveries waiting at the same moment share one INSERT and one commit.

    ``put`` returns once its body is durably stored. After each commit the
    inbox processor is woken so statuses apply within milliseconds, up to
    ``APPLY_BATCH`` bodies a transaction; it takes the bodies this process
    stored by id, so it never scans the inbox (the tick's pass, once a
    second, applies anything else: bodies other processes stored, or a group
    whose apply failed). On SQLite writing and applying take turns on one
    lock: they would otherwise wait for each other inside the database's busy
    handler, which sleeps in steps of milliseconds, and a delivery's 200 would
    wait for an apply to finish. On PostgreSQL they run at once on two
    connections (they touch different rows), so a 200 waits only for the
    group commit, never for an apply.
    """

    APPLY_BATCH = 100

    def __init__(self, herald: Herald) -> None:
        self.herald = herald
        self._queue: list[tuple[bytes, asyncio.Future[None]]] = []
        self._stored: list[int] = []  # ids stored and not yet handed to the inbox processor
        self._wake = asyncio.Event()
        self._applied = asyncio.Event()
        self._turn: contextlib.AbstractAsyncContextManager[Any] = (
            contextlib.nullcontext() if is_postgres(herald.database) else asyncio.Lock()
        )
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._write_forever()),
            asyncio.create_task(self._apply_forever()),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def put(self, body: bytes) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((body, done))
        self._wake.set()
        await done

    async def _write_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._queue = self._queue, []
            if not batch:
                continue
            try:
                async with self._turn:
                    ids = await self.herald.db(self._store, [body for body, _ in batch])
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)
            self._stored.extend(ids)
            self._applied.set()

    def _store(self, bodies: list[bytes]) -> list[int]:
        return inbox.put(self.herald.database, bodies, self.herald.clock.now())  # durable when it returns

    async def _apply_forever(self) -> None:
        while True:
            await self._applied.wait()
            self._applied.clear()
            while self._stored:
                ids = self._stored[: self.APPLY_BATCH]
                del self._stored[: self.APPLY_BATCH]
                try:
                    async with self._turn:
                        await self.herald.db(self.herald.ingest.process_inbox, len(ids), ids=ids)
                except Exception:
                    log.exception("applying webhook bodies failed; the tick will retry")
