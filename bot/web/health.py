"""/healthz and /metrics.

``/healthz`` says whether each part is up, and nothing else: no host, user,
path or database name (anyone can ask it). ``/metrics`` needs
``Authorization: Bearer $METRICS_TOKEN`` when ``METRICS_TOKEN`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from typing import Any

import peewee
from aiohttp import web

from bot.container import Herald
from bot.errors import Unauthorized
from bot.metrics import Figures
from bot.web.http import bearer_token, json_response
from bot.web.keys import HERALD, METRICS
from engine.funnel import held_everywhere
from storage import counters, inbox

log = logging.getLogger("herald.web")
routes = web.RouteTableDef()


def _database_ok(herald: Herald) -> bool:
    herald.database.execute_sql("SELECT 1").fetchone()
    return True


async def component_status(herald: Herald) -> dict[str, Any]:
    """Each part's state in a word or a count; a failure is logged here, never shown."""
    try:
        db_ok = await herald.db(_database_ok, herald)
    except Exception as exc:
        log.warning("health check: the database does not answer (%s)", type(exc).__name__)
        db_ok = False
    settings = herald.settings
    link = herald.link
    redis_up = await asyncio.to_thread(link.ping) if link is not None else False
    workers = await asyncio.to_thread(link.workers_alive) if link is not None and redis_up else 0
    return {
        "database": "up" if db_ok else "down",
        "redis": "up" if redis_up else ("not used" if link is None else "down"),
        "workers": workers,
        "mode": "redis" if redis_up and workers else "direct",
        "whatsapp": "live" if settings.whatsapp_live else "sandbox",
        "slack": "on" if settings.slack_enabled else "off",
    }


def _figures(herald: Herald) -> Figures:
    database = herald.database
    return Figures(
        ignored=counters.read(database, counters.IGNORED_WEBHOOK_ITEMS),
        quarantined=inbox.quarantined(database),
        backlog=inbox.backlog(database),
        held=held_everywhere(database),
        messaging_limit=herald.limits.current().value,
        reached=herald.limits.used(),
    )


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    status = await component_status(herald)
    ok = status["database"] == "up"
    metrics = request.app[METRICS]
    metrics.up.labels("database").set(1 if ok else 0)
    return json_response({"status": "ok" if ok else "down", **status}, status=200 if ok else 503)


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    expected = herald.settings.metrics_token
    if expected is not None and expected.get_secret_value():
        token = bearer_token(request)
        if token is None or not hmac.compare_digest(token.encode(), expected.get_secret_value().encode()):
            raise Unauthorized(
                "/metrics needs the metrics token.",
                hint="Send 'Authorization: Bearer <METRICS_TOKEN>'.",
            )
    figures = request.app[METRICS].stored
    with contextlib.suppress(peewee.DatabaseError):  # down: /healthz says so; the rest still renders
        figures.figures = await herald.db(_figures, herald)
    body = request.app[METRICS].render()
    return web.Response(
        body=body,
        content_type="text/plain",
        charset="utf-8",
        headers={"X-Prometheus-Format": "0.0.4"},
    )
