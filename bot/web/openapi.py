"""The OpenAPI 3.1 document served at /api/openapi.json, generated from the typed shapes.

Request bodies come from the pydantic request models (``bot.web.schemas``,
the sequence ``Definition``); answers from the engine's views
(``engine.views``) and the API's envelopes (``bot.web.views``), with their
field descriptions. ``OPERATIONS`` lists each route once: its summary, its
answer, the refusals it can give, and one example.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aiohttp import web
from pydantic import BaseModel, TypeAdapter

from bot.web import examples
from bot.web import views as api
from bot.web.http import MAX_ID, json_response
from bot.web.schemas import BroadcastIn, ContactIn, EnrollIn, TagsIn
from engine import views
from engine.sequences.definition import Definition

routes = web.RouteTableDef()
REF = "#/components/schemas/{model}"

_ERRORS = {
    "400": "Malformed body: not JSON, not UTF-8, or not decodable as its Content-Encoding says",
    "401": "Missing or wrong bearer token",
    "404": "Not found",
    "408": "The body stalled for BODY_TIMEOUT_SECONDS; the connection is closed",
    "409": "Conflicts with the current state",
    "413": "Body too large (or larger than the limit once inflated)",
    "415": "Unsupported media type or Content-Encoding",
    "422": "Invalid input; the error names the field",
    "502": "WhatsApp refused or did not answer",
    "503": "Database unavailable",
}
_ALWAYS = ("401", "422", "503")  # every route is authorised; any parameter (even unknown) is checked
CONFLICT = ("409",)

ID: dict[str, Any] = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}
TAG: dict[str, Any] = {"name": "tag", "in": "path", "required": True, "schema": {"type": "string"}}
SEQUENCE_REF: dict[str, Any] = {
    "name": "ref",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "a sequence id or name",
}
PAGE: list[dict[str, Any]] = [
    {
        "name": "tag",
        "in": "query",
        "schema": {"type": "array", "items": {"type": "string"}},
        "style": "form",
        "explode": True,
        "description": "contacts having ANY of these tags",
    },
    {
        "name": "after",
        "in": "query",
        "schema": {"type": "integer", "minimum": 0, "maximum": 2**62},
        "description": "the `next` of the previous page",
    },
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
]
RECENT: list[dict[str, Any]] = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
    {"name": "status", "in": "query", "schema": {"type": "string"}, "description": "e.g. `sending`"},
]
STATUS = [{"name": "status", "in": "query", "schema": {"type": "string"}, "description": "e.g. `APPROVED`"}]

Shape = type[Any]  # a pydantic model or a typed dict


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    answer: Shape  # the shape of the success answer(s)
    example: Any  # one success answer
    statuses: tuple[str, ...] = ("200",)  # success statuses, each answering ``answer``
    body: Shape | None = None
    body_example: Any = None
    body_type: str = "application/json"
    params: list[dict[str, Any]] = field(default_factory=list)
    refusals: tuple[str, ...] = ()  # beyond _ALWAYS and what a body or a path parameter adds


def _moves(path: str, answer: Shape, example: Any, actions: tuple[str, ...], what: str) -> list[Operation]:
    param = ID if "{id}" in path else SEQUENCE_REF
    return [
        Operation(
            "post",
            f"{path}/{action}",
            f"{action.capitalize()} the {what}",
            answer,
            example,
            params=[param],
            refusals=CONFLICT,
        )
        for action in actions
    ]


OPERATIONS: list[Operation] = [
    Operation(
        "post",
        "/api/contacts",
        "Create or update a contact (upsert by phone)",
        views.Contact,
        examples.CONTACT,
        statuses=("200", "201"),
        body=ContactIn,
        body_example=examples.CONTACT_IN,
        refusals=CONFLICT,
    ),
    Operation(
        "get",
        "/api/contacts",
        "List contacts having any of the tags, keyset-paged by id",
        api.ContactPage,
        examples.CONTACT_PAGE,
        params=PAGE,
    ),
    Operation(
        "post",
        "/api/contacts/import",
        "Import contacts from CSV (phone,name,tags,opted_in[,attributes...])",
        views.ImportReport,
        examples.IMPORT_REPORT,
        body=str,
        body_example=examples.CSV_IN,
        body_type="text/csv",
    ),
    Operation("get", "/api/contacts/{id}", "Get a contact", views.Contact, examples.CONTACT, params=[ID]),
    Operation(
        "delete",
        "/api/contacts/{id}",
        "Soft-delete a contact",
        views.Contact,
        {**examples.CONTACT, "status": "deleted"},
        params=[ID],
        refusals=CONFLICT,
    ),
    Operation(
        "post",
        "/api/contacts/{id}/tags",
        "Add tags (fires tag_added)",
        views.Contact,
        examples.CONTACT,
        body=TagsIn,
        body_example=examples.TAGS_IN,
        params=[ID],
        refusals=CONFLICT,
    ),
    Operation(
        "delete",
        "/api/contacts/{id}/tags/{tag}",
        "Remove a tag",
        views.Contact,
        {**examples.CONTACT, "tags": ["vip"]},
        params=[ID, TAG],
        refusals=CONFLICT,
    ),
    Operation(
        "post",
        "/api/contacts/{id}/optout",
        "Opt a contact out",
        views.Contact,
        {**examples.CONTACT, "opted_in": False},
        params=[ID],
        refusals=CONFLICT,
    ),
    Operation(
        "post",
        "/api/contacts/{id}/optin",
        "Opt a contact back in",
        views.Contact,
        examples.CONTACT,
        params=[ID],
        refusals=CONFLICT,
    ),
    Operation(
        "get",
        "/api/contacts/{id}/enrollments",
        "A contact's enrollments",
        api.EnrollmentList,
        {"enrollments": [examples.ENROLLMENT]},
        params=[ID],
    ),
    Operation(
        "get",
        "/api/templates",
        "List templates",
        api.TemplateList,
        {"templates": [examples.TEMPLATE]},
        params=STATUS,
    ),
    Operation(
        "post",
        "/api/templates/sync",
        "Fetch every template from WhatsApp into the registry",
        views.SyncReport,
        examples.SYNC_REPORT,
        refusals=("502",),
    ),
    Operation(
        "post",
        "/api/broadcasts",
        "Create a broadcast (schedule now, draft or a local time)",
        views.Broadcast,
        {**examples.DRAFT, "status": "scheduled"},
        statuses=("201",),
        body=BroadcastIn,
        body_example=examples.BROADCAST_IN,
        refusals=CONFLICT,
    ),
    Operation(
        "get",
        "/api/broadcasts",
        "Recent broadcasts",
        api.BroadcastList,
        {"broadcasts": [examples.BROADCAST]},
        params=RECENT,
    ),
    Operation(
        "get",
        "/api/broadcasts/{id}",
        "A broadcast with its funnel",
        views.Broadcast,
        examples.BROADCAST,
        params=[ID],
    ),
    Operation(
        "patch",
        "/api/broadcasts/{id}",
        "Edit a draft or scheduled broadcast",
        views.Broadcast,
        examples.DRAFT,
        body=BroadcastIn,
        body_example={**examples.BROADCAST_IN, "schedule": "draft"},
        params=[ID],
        refusals=CONFLICT,
    ),
    Operation(
        "get",
        "/api/broadcasts/{id}/preview",
        "Who would receive it: the waterfall and the first ten",
        views.Preview,
        examples.PREVIEW,
        params=[ID],
    ),
    *_moves(
        "/api/broadcasts/{id}",
        views.Broadcast,
        {**examples.BROADCAST, "status": "sending", "completed_at": None},
        ("send", "pause", "resume", "cancel"),
        "broadcast",
    ),
    Operation(
        "post",
        "/api/sequences",
        "Create a sequence (a draft)",
        views.Sequence,
        {**examples.SEQUENCE, "status": "draft", "version": 1, "versions": []},
        statuses=("201",),
        body=Definition,
        body_example=examples.DEFINITION,
        refusals=CONFLICT,
    ),
    Operation(
        "get",
        "/api/sequences",
        "Every sequence",
        api.SequenceList,
        {"sequences": [examples.SEQUENCE_SUMMARY]},
    ),
    Operation(
        "post",
        "/api/sequences/enroll",
        "Enroll a contact (once per sequence)",
        views.Enrollment,
        examples.ENROLLMENT,
        statuses=("201",),
        body=EnrollIn,
        body_example=examples.ENROLL_IN,
        refusals=("404", "409"),
    ),
    Operation(
        "get",
        "/api/sequences/{ref}",
        "A sequence with its enrollments and step funnels",
        views.Sequence,
        examples.SEQUENCE,
        params=[SEQUENCE_REF],
    ),
    Operation(
        "put",
        "/api/sequences/{ref}",
        "Edit (a new version once activated)",
        views.Sequence,
        {
            **examples.SEQUENCE,
            "note": "Published version 2; 120 contact(s) continue on the version they started with.",
        },
        body=Definition,
        body_example=examples.DEFINITION,
        params=[SEQUENCE_REF],
        refusals=CONFLICT,
    ),
    *_moves(
        "/api/sequences/{ref}",
        views.Sequence,
        examples.SEQUENCE,
        ("activate", "pause", "archive"),
        "sequence",
    ),
    Operation("get", "/api/openapi.json", "This document", dict, {"openapi": "3.1.0"}),
]


class _Schemas:
    """The components: every shape's JSON schema, its nested shapes hoisted beside it."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def ref(self, shape: Shape) -> dict[str, Any]:
        if shape is str:
            return {"type": "string"}
        if shape is dict:
            return {"type": "object"}
        if isinstance(shape, type) and issubclass(shape, BaseModel):
            schema = shape.model_json_schema(ref_template=REF, mode="validation")
        else:
            schema = TypeAdapter(shape).json_schema(ref_template=REF, mode="serialization")
        for name, nested in {**schema.pop("$defs", {}), shape.__name__: schema}.items():
            if self.schemas.setdefault(name, nested) != nested:
                raise ValueError(f"two different shapes are called {name}")
        return {"$ref": REF.format(model=shape.__name__)}

    def operation(self, op: Operation) -> dict[str, Any]:
        """One operation, documenting exactly the statuses its route can answer.

        Beyond ``_ALWAYS``: a body adds 400, 408, 413 and 415 (a media type or
        a Content-Encoding Herald does not read), a path parameter 404;
        ``refusals`` adds the rest (409 for state, 502 for WhatsApp).
        """
        answer = self.ref(op.answer)
        responses: dict[str, Any] = {
            status: {
                "description": op.summary,
                "content": {"application/json": {"schema": answer, "example": op.example}},
            }
            for status in op.statuses
        }
        codes = set(_ALWAYS) | set(op.refusals)
        if op.body is not None:
            codes |= {"400", "408", "413", "415"}
        if any(p["in"] == "path" for p in op.params):
            codes.add("404")
        error = self.ref(api.Error)
        for code in sorted(codes):
            responses[code] = {
                "description": _ERRORS[code],
                "content": {"application/json": {"schema": error}},
            }
        operation: dict[str, Any] = {"summary": op.summary, "responses": responses}
        if op.body is not None:
            media = {"schema": self.ref(op.body), "example": op.body_example}
            operation["requestBody"] = {"required": True, "content": {op.body_type: media}}
        if op.params:
            operation["parameters"] = op.params
        return operation


def document() -> dict[str, Any]:
    """The whole document (built once; each caller gets its own copy)."""
    return copy.deepcopy(_document())


@cache
def _document() -> dict[str, Any]:
    schemas = _Schemas()
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = schemas.operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Herald", "version": "1"},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": dict(sorted(schemas.schemas.items())),
        },
    }


@routes.get("/api/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    return json_response(document())
