"""The OpenAPI 3.1 document served at /api/openapi.json, built from the request models."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel

from bot.web.http import MAX_ID, json_response
from bot.web.schemas import BroadcastIn, ContactIn, EnrollIn, TagsIn
from engine.sequences.definition import Definition

routes = web.RouteTableDef()

ERROR = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "field"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z_]+$"},
                "message": {"type": "string", "minLength": 1},
                "field": {"type": ["string", "null"]},
            },
        }
    },
}
TAG_NAME = {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_\-.:/]{0,63}$"}
CONTACT = {
    "type": "object",
    "required": ["id", "phone", "wa_user_id", "username", "name", "tags", "opted_in", "status", "attributes"],
    "properties": {
        "id": {"type": "integer"},
        "phone": {"type": ["string", "null"], "pattern": r"^\+[1-9]\d{6,14}$"},
        "wa_user_id": {"type": ["string", "null"], "description": "business-scoped user id (US.1349...)"},
        "username": {"type": ["string", "null"]},
        "name": {"type": "string"},
        "tags": {"type": "array", "items": TAG_NAME},
        "opted_in": {"type": "boolean"},
        "status": {"enum": ["active", "deleted"]},
        "attributes": {"type": "object"},
    },
}
CONTACT_PAGE = {
    "type": "object",
    "required": ["contacts", "next"],
    "properties": {
        "contacts": {"type": "array", "items": {"$ref": "#/components/schemas/Contact"}},
        "next": {"type": ["integer", "null"]},
    },
}
IMPORT_REPORT = {
    "type": "object",
    "required": ["accepted", "updated", "rejected", "rejected_total"],
    "properties": {
        "accepted": {"type": "integer"},
        "updated": {"type": "integer"},
        "rejected_total": {"type": "integer"},
        "rejected": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["line", "reason"],
                "properties": {"line": {"type": "integer"}, "reason": {"type": "string"}},
            },
        },
    },
}
FUNNEL = {
    "type": "object",
    "required": ["total", "sent", "delivered", "read", "replied", "failed", "skipped", "failed_reasons"],
    "properties": {
        **{
            k: {"type": "integer"}
            for k in ("total", "sent", "delivered", "read", "replied", "failed", "pending")
        },
        "skipped": {"type": "object", "additionalProperties": {"type": "integer"}},
        "failed_reasons": {"type": "object", "additionalProperties": {"type": "integer"}},
    },
}
BROADCAST = {
    "type": "object",
    "required": ["id", "name", "template", "tags", "status", "scheduled_at", "timezone", "funnel"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "template": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "status": {"enum": ["draft", "scheduled", "sending", "paused", "completed", "cancelled", "missed"]},
        "scheduled_at": {"type": ["string", "null"]},
        "timezone": {"type": "string"},
        "funnel": {"$ref": "#/components/schemas/Funnel"},
    },
}
PREVIEW = {
    "type": "object",
    "required": ["total", "capped", "sample", "waterfall", "estimated_seconds"],
    "properties": {
        "total": {"type": "integer"},
        "capped": {"type": "integer"},
        "will_send": {"type": "integer"},
        "sample": {"type": "array", "items": {"$ref": "#/components/schemas/Contact"}, "maxItems": 10},
        "waterfall": {"type": "object"},
        "estimated_seconds": {"type": "number"},
    },
}
SEQUENCE = {
    "type": "object",
    "required": ["id", "name", "status", "version", "trigger"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "status": {"enum": ["draft", "active", "paused", "archived"]},
        "version": {"type": "integer"},
        "trigger": {"type": "object"},
    },
}
ENROLLMENT = {
    "type": "object",
    "required": ["id", "sequence", "contact", "version", "status", "current_step"],
    "properties": {
        "id": {"type": "integer"},
        "sequence": {"type": "string"},
        "contact": {"type": "integer"},
        "version": {"type": "integer"},
        "status": {"enum": ["active", "completed", "exited"]},
        "current_step": {"type": ["string", "null"]},
    },
}
TEMPLATE = {
    "type": "object",
    "required": [
        "id",
        "name",
        "language",
        "category",
        "status",
        "parameter_format",
        "parameters",
        "components",
    ],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "language": {"type": "string"},
        "category": {"type": "string"},
        "status": {"type": "string"},
        "parameter_format": {"enum": ["NAMED", "POSITIONAL"]},
        "parameters": {"type": "array"},
        "components": {"type": "array"},
    },
}
SYNC_REPORT = {
    "type": "object",
    "required": ["synced", "approved", "skipped"],
    "properties": {
        "synced": {"type": "integer"},
        "approved": {"type": "integer"},
        "skipped": {"type": "array", "items": {"type": "string"}},
    },
}


def _models(*models: type[BaseModel]) -> dict[str, Any]:
    """The request models' JSON schemas, their nested models hoisted into components."""
    schemas: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


def _list_of(key: str, schema: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [key],
        "properties": {key: {"type": "array", "items": {"$ref": f"#/components/schemas/{schema}"}}},
    }


_ERRORS = {
    "400": "Malformed body: not JSON, not UTF-8, or not decodable as its Content-Encoding says",
    "401": "Missing or wrong bearer token",
    "404": "Not found",
    "409": "Conflicts with the current state",
    "413": "Body too large",
    "415": "Unsupported media type",
    "422": "Invalid input; the error names the field",
    "502": "WhatsApp refused or did not answer",
    "503": "Database unavailable",
}
_ALWAYS = ("401", "422", "503")
CONFLICT = ("409",)  # every route is authorised; any parameter (even unknown) is checked


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _op(
    summary: str,
    ok: dict[str, tuple[str, dict[str, Any]]],
    *,
    body: dict[str, Any] | None = None,
    body_type: str = "application/json",
    params: list[dict[str, Any]] | None = None,
    refusals: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One operation, documenting exactly the statuses its route can answer.

    Beyond ``_ALWAYS``: a body adds 400 and 413 (and 415 for JSON), a path
    parameter 404; ``refusals`` adds the rest (409 for state, 502 for WhatsApp).
    """
    responses: dict[str, Any] = {
        code: {"description": text, "content": {"application/json": {"schema": schema}}}
        for code, (text, schema) in ok.items()
    }
    codes = set(_ALWAYS) | set(refusals)
    if body is not None:
        codes |= {"400", "413"} | ({"415"} if body_type == "application/json" else set())
    if any(p["in"] == "path" for p in params or ()):
        codes.add("404")
    for code in sorted(codes):
        responses[code] = {
            "description": _ERRORS[code],
            "content": {"application/json": {"schema": _ref("Error")}},
        }
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {body_type: {"schema": body}}}
    if params:
        operation["parameters"] = params
    return operation


ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}
TAG = {"name": "tag", "in": "path", "required": True, "schema": {"type": "string"}}
REF = {
    "name": "ref",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "a sequence id or name",
}


def document() -> dict[str, Any]:
    contact = ("The contact", _ref("Contact"))
    paths: dict[str, Any] = {
        "/api/contacts": {
            "post": _op(
                "Create or update a contact (upsert by phone)",
                {"200": ("Updated", _ref("Contact")), "201": ("Created", _ref("Contact"))},
                body=_ref("ContactIn"),
                refusals=("409",),
            ),
            "get": _op(
                "List contacts having any of the tags, keyset-paged by id",
                {"200": ("A page of contacts", _ref("ContactPage"))},
                params=[
                    {
                        "name": "tag",
                        "in": "query",
                        "schema": {"type": "array", "items": {"type": "string"}},
                        "style": "form",
                        "explode": True,
                    },
                    {
                        "name": "after",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 0, "maximum": 2**62},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                    },
                ],
            ),
        },
        "/api/contacts/import": {
            "post": _op(
                "Import contacts from CSV (phone,name,tags,opted_in[,attributes...])",
                {"200": ("Import report", _ref("ImportReport"))},
                body={"type": "string"},
                body_type="text/csv",
            )
        },
        "/api/contacts/{id}": {
            "get": _op("Get a contact", {"200": contact}, params=[ID]),
            "delete": _op("Soft-delete a contact", {"200": contact}, params=[ID], refusals=CONFLICT),
        },
        "/api/contacts/{id}/tags": {
            "post": _op(
                "Add tags (fires tag_added)",
                {"200": contact},
                body=_ref("TagsIn"),
                params=[ID],
                refusals=CONFLICT,
            )
        },
        "/api/contacts/{id}/tags/{tag}": {
            "delete": _op("Remove a tag", {"200": contact}, params=[ID, TAG], refusals=CONFLICT)
        },
        "/api/contacts/{id}/optout": {
            "post": _op("Opt a contact out", {"200": contact}, params=[ID], refusals=CONFLICT)
        },
        "/api/contacts/{id}/optin": {
            "post": _op("Opt a contact back in", {"200": contact}, params=[ID], refusals=CONFLICT)
        },
        "/api/templates": {
            "get": _op(
                "List templates",
                {"200": ("Templates", _list_of("templates", "Template"))},
                params=[{"name": "status", "in": "query", "schema": {"type": "string"}}],
            )
        },
        "/api/templates/sync": {
            "post": _op(
                "Fetch every template from WhatsApp into the registry",
                {"200": ("Report", _ref("SyncReport"))},
                refusals=("502",),
            )
        },
        "/api/broadcasts": {
            "post": _op(
                "Create a broadcast (schedule now, draft or a local time)",
                {"201": ("Created", _ref("Broadcast"))},
                body=_ref("BroadcastIn"),
                refusals=CONFLICT,
            ),
            "get": _op(
                "Recent broadcasts",
                {"200": ("Broadcasts", _list_of("broadcasts", "Broadcast"))},
                params=[
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 200},
                    },
                    {"name": "status", "in": "query", "schema": {"type": "string"}},
                ],
            ),
        },
        "/api/broadcasts/{id}": {
            "get": _op(
                "A broadcast with its funnel", {"200": ("The broadcast", _ref("Broadcast"))}, params=[ID]
            ),
            "patch": _op(
                "Edit a draft or scheduled broadcast",
                {"200": ("The broadcast", _ref("Broadcast"))},
                body=_ref("BroadcastIn"),
                params=[ID],
                refusals=CONFLICT,
            ),
        },
        "/api/broadcasts/{id}/preview": {
            "get": _op(
                "Who would receive it: the waterfall and the first ten",
                {"200": ("Preview", _ref("Preview"))},
                params=[ID],
            )
        },
        **{
            f"/api/broadcasts/{{id}}/{action}": {
                "post": _op(
                    f"{action.capitalize()} the broadcast",
                    {"200": ("The broadcast", _ref("Broadcast"))},
                    params=[ID],
                    refusals=CONFLICT,
                )
            }
            for action in ("send", "pause", "resume", "cancel")
        },
        "/api/sequences": {
            "post": _op(
                "Create a sequence (a draft)",
                {"201": ("Created", _ref("Sequence"))},
                body=_ref("Definition"),
                refusals=CONFLICT,
            ),
            "get": _op("Every sequence", {"200": ("Sequences", _list_of("sequences", "Sequence"))}),
        },
        "/api/sequences/enroll": {
            "post": _op(
                "Enroll a contact (once per sequence)",
                {"201": ("Enrolled", _ref("Enrollment"))},
                body=_ref("EnrollIn"),
                refusals=("404", "409"),
            )
        },
        "/api/sequences/{ref}": {
            "get": _op(
                "A sequence with its enrollments and step funnels",
                {"200": ("The sequence", _ref("Sequence"))},
                params=[REF],
            ),
            "put": _op(
                "Edit (a new version once activated)",
                {"200": ("The sequence", _ref("Sequence"))},
                body=_ref("Definition"),
                params=[REF],
                refusals=CONFLICT,
            ),
        },
        **{
            f"/api/sequences/{{ref}}/{action}": {
                "post": _op(
                    f"{action.capitalize()} the sequence",
                    {"200": ("The sequence", _ref("Sequence"))},
                    params=[REF],
                    refusals=CONFLICT,
                )
            }
            for action in ("activate", "pause", "archive")
        },
        "/api/contacts/{id}/enrollments": {
            "get": _op(
                "A contact's enrollments",
                {"200": ("Enrollments", _list_of("enrollments", "Enrollment"))},
                params=[ID],
            )
        },
        "/api/openapi.json": {"get": _op("This document", {"200": ("OpenAPI", {"type": "object"})})},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Herald", "version": "1"},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": ERROR,
                "Contact": CONTACT,
                "ContactPage": CONTACT_PAGE,
                "ImportReport": IMPORT_REPORT,
                **_models(ContactIn, TagsIn, BroadcastIn, EnrollIn, Definition),
                "Funnel": FUNNEL,
                "Broadcast": BROADCAST,
                "Preview": PREVIEW,
                "Sequence": SEQUENCE,
                "Enrollment": ENROLLMENT,
                "Template": TEMPLATE,
                "SyncReport": SYNC_REPORT,
            },
        },
    }


@routes.get("/api/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    return json_response(document())
