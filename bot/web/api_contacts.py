"""REST routes for contacts: upsert, list by tag, tags, opt-in/out, delete, CSV import."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

from aiohttp import web

from bot.errors import BodyTooLarge
from bot.web import views as api
from bot.web.bodies import content_encoding
from bot.web.http import int_param, json_response, path_id, read_json
from bot.web.keys import HERALD
from bot.web.schemas import ContactIn, TagsIn
from bot.web.streams import BodyPieces, on_a_thread
from engine.actor import API
from engine.contacts import ContactRow
from engine.errors import Invalid
from engine.importer import Chunk, ImportReport, chunks, lines_of, older_objects_frozen
from engine.phones import normalize_phone, normalize_user_id
from engine.tags import normalize_tags

routes = web.RouteTableDef()


def _row(body: ContactIn) -> ContactRow:
    if body.phone is None and body.wa_user_id is None:
        raise Invalid(
            "a contact needs a phone or a wa_user_id.",
            field="phone",
            hint='Send {"phone": "+919812345678"}, or {"wa_user_id": "US.13491208655302741918"} for a'
            " WhatsApp username user whose number you do not have.",
        )
    return ContactRow(
        phone=normalize_phone(body.phone) if body.phone is not None else None,
        wa_user_id=normalize_user_id(body.wa_user_id) if body.wa_user_id is not None else None,
        username=body.username.strip().lstrip("@") or None if body.username is not None else None,
        name=body.name.strip() if body.name is not None else None,
        tags=tuple(normalize_tags(body.tags)),
        opted_in=body.opted_in,
        attributes={k: str(v) for k, v in body.attributes.items()} if body.attributes else None,
    )


@routes.post("/api/contacts")
async def upsert_contact(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    row = _row(await read_json(request, ContactIn))

    contact, created = await herald.db(herald.contacts.upsert, row, by=API)
    return json_response(contact, status=201 if created else 200)


@routes.get("/api/contacts")
async def list_contacts(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    tags = request.query.getall("tag", [])
    after = int_param(request, "after", default=0, low=0, high=2**62)
    limit = int_param(request, "limit", default=100, low=1, high=1000)
    page, cursor = await herald.db(herald.contacts.page, tags, after=after, limit=limit)
    return json_response(api.ContactPage(contacts=page, next=cursor))


@routes.get("/api/contacts/{id}")
async def get_contact(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    return json_response(await herald.db(herald.contacts.get, path_id(request)))


@routes.post("/api/contacts/{id}/tags")
async def add_tags(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    contact_id = path_id(request)
    body = await read_json(request, TagsIn)
    tags = normalize_tags(body.tags)
    return json_response(await herald.db(herald.contacts.add_tags, contact_id, tags, by=API))


@routes.delete("/api/contacts/{id}/tags/{tag}")
async def remove_tag(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    contact_id = path_id(request)
    tag = request.match_info["tag"]
    return json_response(await herald.db(herald.contacts.remove_tags, contact_id, [tag], by=API))


@routes.post("/api/contacts/{id}/optout")
async def opt_out(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    contact_id = path_id(request)
    return json_response(await herald.db(herald.contacts.set_opt_in, contact_id, False, by=API))


@routes.post("/api/contacts/{id}/optin")
async def opt_in(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    contact_id = path_id(request)
    return json_response(await herald.db(herald.contacts.set_opt_in, contact_id, True, by=API))


@routes.delete("/api/contacts/{id}")
async def delete_contact(request: web.Request) -> web.Response:
    herald = request.app[HERALD]
    contact_id = path_id(request)
    return json_response(await herald.db(herald.contacts.delete, contact_id, by=API))


@routes.post("/api/contacts/import")
async def import_contacts(request: web.Request) -> web.Response:
    """Stream a CSV into contacts: the network is read on the event loop, rows are read and
    checked on a thread of their own, and a database thread is taken only to write a complete
    chunk (``bot.web.streams``)."""
    herald = request.app[HERALD]
    settings = herald.settings
    limit = settings.import_max_bytes
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge(
            f"the upload is {request.content_length:,} bytes; the limit is {limit:,}.",
            field="body",
            hint="Split the file, or raise IMPORT_MAX_BYTES.",
        )
    encoding = content_encoding(request)
    loop = asyncio.get_running_loop()
    importer = herald.importer

    def read(stop: threading.Event) -> Iterator[Chunk]:
        body = BodyPieces(
            request,
            loop,
            encoding=encoding,
            limit=limit,
            timeout=settings.body_timeout_seconds,
            stop=stop,
        )
        return chunks(lines_of(body), importer.chunk_rows)

    report = ImportReport()
    with older_objects_frozen():
        async for chunk in on_a_thread(read, name="csv-import-reader"):
            await herald.db(importer.write, chunk, report)
    await herald.db(importer.done, report, by=API)
    return json_response(report.as_dict())


@routes.route("*", "/api/contacts/import")
async def import_other_methods(request: web.Request) -> web.Response:
    """Without this, GET /api/contacts/import would reach GET /api/contacts/{id} (the id "import")."""
    raise web.HTTPMethodNotAllowed(request.method, ["POST"])
