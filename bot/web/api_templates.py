"""REST routes for templates."""

from __future__ import annotations

from aiohttp import web

from bot.web.http import json_response
from bot.web.keys import HERALD
from engine.templates import template_view

routes = web.RouteTableDef()


@routes.get("/api/templates")
async def list_templates(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    status = request.query.get("status")

    def work() -> list[dict]:
        return [template_view(t) for t in herald.templates.list(status=status)]

    return json_response({"templates": await herald.db(work)})
