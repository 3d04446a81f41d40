"""Typed keys for what the aiohttp application carries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from bot.container import Herald
    from bot.metrics import Metrics
    from bot.web.whatsapp_webhook import InboxWriter

HERALD: web.AppKey[Herald] = web.AppKey("herald")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
INBOX_WRITER: web.AppKey[InboxWriter] = web.AppKey("inbox_writer")
