"""Small HTTP helpers: JSON in and out, and the one error shape."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from bot.errors import BodyTooLarge, MalformedBody, UnsupportedMediaType
from bot.web.keys import HERALD
from engine.errors import HeraldError, Invalid

M = TypeVar("M", bound=BaseModel)


def json_response(data: Any, *, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS),
        status=status,
        content_type="application/json",
    )


def error_response(err: HeraldError) -> web.Response:
    return json_response({"error": err.as_dict()}, status=err.status)


async def read_body(request: web.Request, *, limit: int | None = None) -> bytes:
    """The raw body; raises BodyTooLarge above ``limit`` (default MAX_BODY_BYTES)."""
    limit = limit or request.app[HERALD].settings.max_body_bytes
    too_large = BodyTooLarge(
        f"the body is larger than {limit:,} bytes.",
        field="body",
        hint="Send less at once (for many contacts, use POST /api/contacts/import).",
    )
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise too_large from exc
    if len(body) > limit:
        raise too_large
    return body


async def read_json(request: web.Request, model: type[M]) -> M:
    """The request body validated against ``model``.

    Raises UnsupportedMediaType, MalformedBody (not JSON / not UTF-8) or
    Invalid naming the first field at fault.
    """
    if request.content_type.startswith(("multipart/", "text/csv", "application/xml", "text/xml")):
        raise UnsupportedMediaType(
            f"the body is {request.content_type}; this route takes JSON.",
            field="body",
            hint="Send Content-Type: application/json.",
        )
    raw = await read_body(request)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(
            f"the body is not valid JSON ({exc}).", field="body", hint="Check quotes and commas."
        ) from exc
    return validate(model, data)


def validate(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        kind = first["type"]
        if kind == "extra_forbidden":
            allowed = ", ".join(model.model_fields)
            raise Invalid(
                f"unknown field {where!r}.", field=where, hint=f"Allowed fields: {allowed}."
            ) from exc
        if kind == "missing":
            raise Invalid(f"{where} is required.", field=where) from exc
        message = str(first["msg"]).removeprefix("Value error, ")
        raise Invalid(f"{where}: {message}.", field=where) from exc


def int_param(request: web.Request, name: str, *, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise Invalid(f"{name} must be a whole number.", field=name) from exc
    if not low <= value <= high:
        raise Invalid(f"{name} must be between {low} and {high}.", field=name)
    return value


def path_id(request: web.Request, name: str = "id") -> int:
    raw = request.match_info[name]
    if not raw.isdigit() or len(raw) > 18:
        raise Invalid(f"{name} {raw!r} is not an id.", field=name, hint="Ids are whole numbers.")
    return int(raw)


def move_route(
    service: str, method: str, ref: Callable[[web.Request], Any], by: Any
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A POST route that applies one lifecycle move (``herald.<service>.<method>(ref, by=)``)."""

    async def handler(request: web.Request) -> web.Response:
        herald = request.app[HERALD]
        move = getattr(getattr(herald, service), method)
        return json_response(await herald.db(move, ref(request), by=by))

    handler.__name__ = f"{service}_{method}"
    return handler
