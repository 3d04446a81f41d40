"""REST routes for templates."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.web import views as api
from bot.web.http import json_response
from bot.web.keys import HERALD
from engine import views
from engine.actor import API
from engine.templates import template_view

routes = web.RouteTableDef()


@routes.get("/api/templates")
async def list_templates(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    status = request.query.get("status")

    def work() -> list[views.Template]:
        return [template_view(t) for t in herald.templates.listed(status=status)]

    return json_response(api.TemplateList(templates=await herald.db(work)))


@routes.post("/api/templates/sync")
async def sync_templates(request: web.Request) -> web.Response:
    """Fetch every template from the Cloud API (or the sandbox's catalogue) into the registry."""
    sync = request.app[HERALD].template_sync
    items = await asyncio.to_thread(sync.fetch)  # no database thread waits on Meta
    limit = await asyncio.to_thread(sync.fetch_limit)
    report = await request.app[HERALD].db(sync.store, items, by=API, limit=limit)
    return json_response(report.as_dict())
