"""A webhook receiver for tests: a real aiohttp server that verifies, parses and keeps each POST.

It answers like a careful receiver: 401 without a signature, 403 with a bad
one, 400 for a body that does not parse, 200 otherwise. Accepted events are
in ``events``, every delivery (good or bad) in ``deliveries``.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from engine.whatsapp.errors import MalformedWebhook
from engine.whatsapp.webhook import SIGNATURE_HEADER, Event, parse, verify_signature


@dataclass
class Delivery:
    body: bytes
    signature: str | None
    answered: int


class WebhookSink:
    """``async with WebhookSink(app_secret) as sink:`` then post to ``sink.url``."""

    def __init__(self, app_secret: str) -> None:
        self.app_secret = app_secret
        self.deliveries: list[Delivery] = []
        self.events: list[Event] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/whatsapp"

    async def __aenter__(self) -> WebhookSink:
        app = web.Application()
        app.router.add_post("/webhooks/whatsapp", self._receive)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        signature = request.headers.get(SIGNATURE_HEADER)
        status = 200
        if not signature:
            status = 401
        elif not verify_signature(body, signature, self.app_secret):
            status = 403
        else:
            try:
                self.events.extend(parse(body))
            except MalformedWebhook:
                status = 400
        self.deliveries.append(Delivery(body, signature, status))
        return web.Response(status=status)
