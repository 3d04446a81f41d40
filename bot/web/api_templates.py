"""REST routes for templates."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from bot.container import Herald
from bot.web.http import json_response
from bot.web.keys import HERALD
from engine.template_sync import sync
from engine.templates import template_view

routes = web.RouteTableDef()


@routes.get("/api/templates")
async def list_templates(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    status = request.query.get("status")

    def work() -> list[dict]:
        return [template_view(t) for t in herald.templates.listed(status=status)]

    return json_response({"templates": await herald.db(work)})


@routes.post("/api/templates/sync")
async def sync_templates(request: web.Request) -> web.Response:
    """Fetch every template from the Cloud API (or the sandbox's catalogue) into the registry."""
    herald = request.app[HERALD]
    report = await herald_sync(herald)
    return json_response(report)


async def herald_sync(herald: Herald) -> dict[str, Any]:
    items = await asyncio.wrap_future(herald.sender.submit(herald.sender.api.templates()))
    source = "cloud" if herald.settings.whatsapp_live else "sandbox"

    def work() -> dict[str, Any]:
        with herald.database.atomic():
            report = sync(herald.templates, items, source=source)
            herald.audit.record(face="api", actor="api", action="templates.sync", synced=report.synced)
        return report.as_dict()

    return await herald.db(work)
