"""REST routes for broadcasts: create, list, get, edit, preview, send, pause, resume, cancel."""

from __future__ import annotations

from aiohttp import web

from bot.web import views as api
from bot.web.http import int_param, json_response, move_route, path_id, read_json
from bot.web.keys import HERALD
from bot.web.schemas import BroadcastIn
from engine import schedule
from engine.actor import API
from engine.broadcasts import BroadcastSpec

routes = web.RouteTableDef()


def _spec(body: BroadcastIn, default_timezone: str) -> BroadcastSpec:
    """The body as the engine's request; the schedule read once here, under the one DST policy."""
    return BroadcastSpec(
        template=body.template,
        tags=body.tags,
        schedule=schedule.read(body.schedule, body.timezone or default_timezone),
        name=body.name,
        language=body.language,
        params=body.params,
    )


@routes.post("/api/broadcasts")
async def create(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    spec = _spec(await read_json(request, BroadcastIn), herald.settings.timezone)
    return json_response(await herald.db(herald.broadcasts.create, spec, by=API), status=201)


@routes.get("/api/broadcasts")
async def list_broadcasts(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    limit = int_param(request, "limit", default=20, low=1, high=200)
    status = request.query.get("status") or None
    recent = await herald.db(herald.broadcasts.recent, limit=limit, status=status)
    return json_response(api.BroadcastList(broadcasts=recent))


@routes.get("/api/broadcasts/{id}")
async def get(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    return json_response(await herald.db(herald.broadcasts.get, path_id(request)))


@routes.patch("/api/broadcasts/{id}")
async def edit(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    broadcast_id = path_id(request)
    spec = _spec(await read_json(request, BroadcastIn), herald.settings.timezone)
    return json_response(await herald.db(herald.broadcasts.edit, broadcast_id, spec, by=API))


@routes.get("/api/broadcasts/{id}/preview")
async def preview(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    result = await herald.db(herald.broadcasts.preview, path_id(request))
    return json_response(result.as_dict())


for _path, _method in (("send", "start"), ("pause", "pause"), ("resume", "resume"), ("cancel", "cancel")):
    routes.post(f"/api/broadcasts/{{id}}/{_path}")(move_route("broadcasts", _method, path_id, API))
