"""REST routes for sequences: create, list, get, edit, activate, pause, archive, enroll."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.web import views as api
from bot.web.http import json_response, load_json, move_route, path_id, read_json
from bot.web.keys import HERALD
from bot.web.schemas import EnrollIn
from engine.actor import API
from engine.errors import Invalid

routes = web.RouteTableDef()


async def _document(request: web.Request) -> dict[str, Any]:
    data = await load_json(request)
    if not isinstance(data, dict):
        raise Invalid("a sequence definition is a JSON object.", field="body")
    return data


def _ref(request: web.Request) -> str:
    return request.match_info["ref"]


@routes.post("/api/sequences/enroll")
async def enroll(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    body = await read_json(request, EnrollIn)
    view = await herald.db(herald.sequences.enroll, body.sequence, body.contact, by=API, source="api")
    return json_response(view, status=201)


@routes.post("/api/sequences")
async def create(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    document = await _document(request)
    return json_response(await herald.db(herald.sequences.create, document, by=API), status=201)


@routes.get("/api/sequences")
async def list_sequences(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    return json_response(api.SequenceList(sequences=await herald.db(herald.sequences.all)))


@routes.get("/api/sequences/{ref}")
async def get(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    return json_response(await herald.db(herald.sequences.get, _ref(request)))


@routes.put("/api/sequences/{ref}")
async def edit(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    ref = _ref(request)
    document = await _document(request)
    return json_response(await herald.db(herald.sequences.edit, ref, document, by=API))


for _method in ("activate", "pause", "archive"):
    routes.post(f"/api/sequences/{{ref}}/{_method}")(move_route("sequences", _method, _ref, API))


@routes.get("/api/contacts/{id}/enrollments")
async def contact_enrollments(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    contact_id = path_id(request)
    enrollments = await herald.db(herald.sequences.enrollments_for, contact_id)
    return json_response(api.EnrollmentList(enrollments=enrollments))
