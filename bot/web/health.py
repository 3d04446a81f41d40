"""/healthz and /metrics."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import peewee
from aiohttp import web

from bot.container import Herald, describe_database
from bot.metrics import Figures
from bot.web.http import json_response
from bot.web.keys import HERALD, METRICS
from storage import counters, inbox

routes = web.RouteTableDef()


def _database_ok(herald: Herald) -> bool:
    herald.database.execute_sql("SELECT 1").fetchone()
    return True


async def component_status(herald: Herald) -> dict[str, Any]:
    try:
        db_ok = await herald.db(_database_ok, herald)
        db_error = None
    except Exception as exc:
        db_ok, db_error = False, type(exc).__name__
    settings = herald.settings
    link = herald.link
    redis_up = await asyncio.to_thread(link.ping) if link is not None else False
    workers = await asyncio.to_thread(link.workers_alive) if link is not None and redis_up else 0
    return {
        "database": {"up": db_ok, "engine": describe_database(settings), "error": db_error},
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
    )


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    status = await component_status(herald)
    ok = status["database"]["up"]
    metrics = request.app[METRICS]
    metrics.up.labels("database").set(1 if ok else 0)
    return json_response({"status": "ok" if ok else "down", **status}, status=200 if ok else 503)


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
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
