"""The OpenAPI 3.1 document served at /api/openapi.json, built from the request models."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.web.http import json_response
from bot.web.schemas import BroadcastIn, ContactIn, EnrollIn, TagsIn

routes = web.RouteTableDef()

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "field"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": ["string", "null"]},
            },
        }
    },
}
CONTACT = {
    "type": "object",
    "required": ["id", "phone", "name", "tags", "opted_in", "status", "attributes"],
    "properties": {
        "id": {"type": "integer"},
        "phone": {"type": "string", "pattern": r"^\+[1-9]\d{6,14}$"},
        "name": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}},
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
DEFINITION = {
    "type": "object",
    "required": ["name", "trigger", "steps"],
    "properties": {
        "name": {"type": "string"},
        "trigger": {"type": "object"},
        "steps": {"type": "array", "items": {"type": "object"}},
    },
}
TEMPLATE_LIST = {
    "type": "object",
    "required": ["templates"],
    "properties": {"templates": {"type": "array", "items": {"type": "object"}}},
}

_ERRORS = {
    "400": "Malformed body",
    "401": "Missing or wrong bearer token",
    "404": "Not found",
    "405": "Method not allowed",
    "409": "Conflicts with the current state",
    "413": "Body too large",
    "415": "Unsupported media type",
    "422": "Invalid input",
    "502": "WhatsApp refused or did not answer",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _op(
    summary: str,
    ok: dict[str, tuple[str, dict[str, Any]]],
    *,
    body: dict[str, Any] | None = None,
    body_type: str = "application/json",
    params: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        code: {"description": text, "content": {"application/json": {"schema": schema}}}
        for code, (text, schema) in ok.items()
    }
    for code, text in _ERRORS.items():
        responses[code] = {
            "description": text,
            "content": {"application/json": {"schema": _ref("Error")}},
        }
    responses["503"] = {
        "description": "Database unavailable",
        "content": {"application/json": {"schema": _ref("Error")}},
    }
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {body_type: {"schema": body}}}
    if params:
        operation["parameters"] = params
    return operation


ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
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
                    {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}},
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
            "delete": _op("Soft-delete a contact", {"200": contact}, params=[ID]),
        },
        "/api/contacts/{id}/tags": {
            "post": _op("Add tags (fires tag_added)", {"200": contact}, body=_ref("TagsIn"), params=[ID])
        },
        "/api/contacts/{id}/tags/{tag}": {"delete": _op("Remove a tag", {"200": contact}, params=[ID, TAG])},
        "/api/contacts/{id}/optout": {"post": _op("Opt a contact out", {"200": contact}, params=[ID])},
        "/api/contacts/{id}/optin": {"post": _op("Opt a contact back in", {"200": contact}, params=[ID])},
        "/api/templates": {
            "get": _op(
                "List templates",
                {"200": ("Templates", TEMPLATE_LIST)},
                params=[{"name": "status", "in": "query", "schema": {"type": "string"}}],
            )
        },
        "/api/templates/sync": {
            "post": _op(
                "Fetch every template from WhatsApp into the registry",
                {"200": ("Report", {"type": "object"})},
            )
        },
        "/api/broadcasts": {
            "post": _op(
                "Create a broadcast (schedule now, draft or a local time)",
                {"201": ("Created", _ref("Broadcast"))},
                body=_ref("BroadcastIn"),
            ),
            "get": _op(
                "Recent broadcasts",
                {"200": ("Broadcasts", {"type": "object"})},
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
                )
            }
            for action in ("send", "pause", "resume", "cancel")
        },
        "/api/sequences": {
            "post": _op(
                "Create a sequence (a draft)", {"201": ("Created", _ref("Sequence"))}, body=_ref("Definition")
            ),
            "get": _op("Every sequence", {"200": ("Sequences", {"type": "object"})}),
        },
        "/api/sequences/enroll": {
            "post": _op(
                "Enroll a contact (once per sequence)",
                {"201": ("Enrolled", _ref("Enrollment"))},
                body=_ref("EnrollIn"),
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
            ),
        },
        **{
            f"/api/sequences/{{ref}}/{action}": {
                "post": _op(
                    f"{action.capitalize()} the sequence",
                    {"200": ("The sequence", _ref("Sequence"))},
                    params=[REF],
                )
            }
            for action in ("activate", "pause", "archive")
        },
        "/api/contacts/{id}/enrollments": {
            "get": _op("A contact's enrollments", {"200": ("Enrollments", {"type": "object"})}, params=[ID])
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
                "ContactIn": ContactIn.model_json_schema(),
                "TagsIn": TagsIn.model_json_schema(),
                "BroadcastIn": BroadcastIn.model_json_schema(),
                "EnrollIn": EnrollIn.model_json_schema(),
                "Funnel": FUNNEL,
                "Broadcast": BROADCAST,
                "Preview": PREVIEW,
                "Sequence": SEQUENCE,
                "Enrollment": ENROLLMENT,
                "Definition": DEFINITION,
            },
        },
    }


@routes.get("/api/openapi.json")
async def openapi_json(request: web.Request) -> web.Response:
    return json_response(document())
