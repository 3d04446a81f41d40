"""Small HTTP helpers: JSON in and out, and the one error shape."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from bot.errors import MalformedBody, UnsupportedMediaType
from bot.web.bodies import read_body
from bot.web.keys import HERALD
from engine.errors import HeraldError, Invalid

M = TypeVar("M", bound=BaseModel)
ID_DIGITS = 18  # ids in paths have at most 18 digits: every one fits a 64-bit integer
MAX_ID = 10**ID_DIGITS - 1
NUL = "\x00"


def json_response(data: Any, *, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS),
        status=status,
        content_type="application/json",
    )


def error_response(err: HeraldError) -> web.Response:
    return json_response({"error": err.as_dict()}, status=err.status)


def ascii_header(request: web.Request, name: str) -> str | None:
    """The header's value, or None when it is missing or not ASCII.

    Credentials and signatures are ASCII; a value that is not (bytes that are
    not UTF-8 arrive as surrogate escapes) can only be refused, and must not
    reach an encoder or ``hmac.compare_digest``, which raise on it.
    """
    value = request.headers.get(name)
    return value if value is not None and value.isascii() else None


def bearer_token(request: web.Request) -> str | None:
    """The token of an ASCII ``Authorization: Bearer <token>`` header, else None."""
    scheme, _, token = (ascii_header(request, "Authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


async def load_json(request: web.Request) -> Any:
    """The body parsed as JSON.

    Raises UnsupportedMediaType (a form, CSV or XML), MalformedBody (not JSON,
    not UTF-8) or Invalid (a NUL character, named by its field).
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
    refuse_nul(data)
    return data


def refuse_nul(data: Any) -> None:
    """Raise Invalid naming the first string (value or key) that holds a NUL character.

    Text never holds one (PostgreSQL cannot store it), so it is refused at the door on every engine.
    Walked without recursion: a body may nest as deep as the JSON parser allows.
    """
    pending: list[tuple[str, Any]] = [("", data)]
    while pending:
        where, value = pending.pop()
        if isinstance(value, str):
            if NUL in value:
                field = where or "body"
                raise Invalid(f"{field} contains a NUL character (\\u0000).", field=field, hint="Remove it.")
        elif isinstance(value, dict):
            for key, inner in reversed(value.items()):
                name = f"{where}.{key}" if where else str(key)
                if NUL in key:
                    raise Invalid(
                        f"the key {name!r} contains a NUL character.", field=name, hint="Remove it."
                    )
                pending.append((name, inner))
        elif isinstance(value, list):
            pending.extend(
                (f"{where}.{i}" if where else str(i), v) for i, v in reversed(list(enumerate(value)))
            )


def refuse_nul_in_url(request: web.Request) -> None:
    """Raise Invalid naming the path or query parameter that holds a NUL character."""
    for name, value in [*request.match_info.items(), *request.query.items()]:
        if NUL in name or NUL in value:
            raise Invalid(f"{name} contains a NUL character (%00).", field=name, hint="Remove it.")


async def read_json(request: web.Request, model: type[M]) -> M:
    """The request body validated against ``model``.

    Raises UnsupportedMediaType, MalformedBody (not JSON / not UTF-8) or
    Invalid naming the first field at fault.
    """
    return validate(model, await load_json(request))


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
    if raw is None:
        return default
    digits = raw.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        raise Invalid(f"{name} must be a whole number.", field=name)
    value = int(raw) if len(digits) <= 19 else None  # longer can only be out of range
    if value is None or not low <= value <= high:
        raise Invalid(f"{name} must be between {low} and {high}.", field=name)
    return value


def path_id(request: web.Request, name: str = "id") -> int:
    raw = request.match_info[name]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > ID_DIGITS:
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
