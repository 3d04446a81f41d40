"""The one aiohttp application: REST API, health, metrics, the WhatsApp webhook and Slack's events."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.container import Herald
from bot.errors import BodyStalled, BodyTooLarge, ClientGone, HttpError, Unauthorized
from bot.faces.wiring import attach
from bot.metrics import Metrics
from bot.settings import Settings
from bot.web import (
    api_broadcasts,
    api_contacts,
    api_sequences,
    api_templates,
    health,
    openapi,
    whatsapp_webhook,
)
from bot.web.http import bearer_token, error_response, refuse_nul_in_url
from bot.web.keys import HERALD, INBOX_WRITER, METRICS
from engine.errors import HeraldError, NotFound, Unavailable
from storage.errors import ConnectionLost

log = logging.getLogger("herald.web")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def server_options(settings: Settings) -> dict[str, Any]:
    """How aiohttp's server must run Herald's app (``AppRunner`` and test servers take these).

    aiohttp arms its keep-alive timer when a connection opens and again after
    each answer, and closes the connection if no whole request head has
    arrived when it fires: with ``HEADER_TIMEOUT_SECONDS`` it is the header
    timeout (a connection that sends nothing, or its head a byte at a time,
    is closed; so is one idle that long between requests). Bodies are read,
    with their own stall timeout, and inflated by ``bot.web.bodies``, so
    aiohttp's own inflating is off. A handler whose client goes away is not
    cancelled: it finishes what it started, and a read of the body that can
    no longer come says so (``ClientGone``, one log line).
    """
    return {
        "keepalive_timeout": settings.header_timeout_seconds,
        "auto_decompress": False,
        "handler_cancellation": False,
    }


def create_app(herald: Herald) -> web.Application:
    app = web.Application(
        client_max_size=max(herald.settings.max_body_bytes, whatsapp_webhook.WEBHOOK_MAX_BYTES),
        middlewares=[_metrics, _errors, _auth, _clean_url],
    )
    app[HERALD] = herald
    app[METRICS] = Metrics()
    app.router.add_routes(health.routes)
    app.router.add_routes(openapi.routes)
    app.router.add_routes(api_contacts.routes)
    app.router.add_routes(api_templates.routes)
    app.router.add_routes(api_broadcasts.routes)
    app.router.add_routes(api_sequences.routes)
    app.router.add_routes(whatsapp_webhook.routes)
    app[INBOX_WRITER] = whatsapp_webhook.InboxWriter(herald)
    if herald.settings.slack_enabled:
        from bot.slack.app import mount  # noqa: PLC0415 - bolt is loaded only when Slack is on

        mount(app, herald)
    attach(herald, slack=False)
    app.on_startup.append(_start_inbox)
    app.on_cleanup.append(_stop_inbox)
    return app


async def _start_inbox(app: web.Application) -> None:
    app[INBOX_WRITER].start()


async def _stop_inbox(app: web.Application) -> None:
    await app[INBOX_WRITER].stop()


def _route_name(request: web.Request) -> str:
    info = request.match_info  # a mapping: empty (falsy) for routes without parameters
    resource = info.route.resource if info is not None and info.route is not None else None
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def _metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        metrics = request.app[METRICS]
        route = _route_name(request)
        metrics.requests.labels(route, request.method, str(status)).inc()
        metrics.latency.labels(route).observe(time.perf_counter() - started)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ClientGone as exc:  # a dropped upload is routine on the internet: one line, no traceback
        content = request.content
        log.info(
            "%s %s: %s (%s of %s bytes)",
            request.method,
            _route_name(request),
            exc.message,
            f"{content.total_raw_bytes:,}",
            f"{request.content_length:,}" if request.content_length is not None else "?",
        )
        return error_response(exc)  # nobody is left to read it
    except BodyStalled as exc:
        log.info("%s %s: %s", request.method, _route_name(request), exc.message)
        return await _answer_and_close(request, error_response(exc))
    except Exception as exc:
        refusal = _refusal(request, exc)
        if refusal is None:
            raise
        response = error_response(refusal)
        if isinstance(exc, web.HTTPMethodNotAllowed):
            response.headers["Allow"] = exc.headers["Allow"]  # RFC 9110: a 405 lists what is allowed
        return response


async def _answer_and_close(request: web.Request, response: web.Response) -> web.Response:
    """Send ``response``, then close the connection at once (aiohttp would otherwise linger,
    reading what is left of the body for a few seconds more)."""
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    request.protocol.force_close()
    return response


def _refusal(request: web.Request, exc: Exception) -> HeraldError | None:  # noqa: PLR0911 - one answer per kind
    """The error shape for ``exc``, or None to let aiohttp answer (non-API HTTP exceptions)."""
    if isinstance(exc, HeraldError):
        return exc
    if isinstance(exc, ConnectionLost):
        log.warning("database unavailable: %s", type(exc).__name__)
        return Unavailable("the database is unavailable.", hint="Try again shortly.")
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        limit = request.app[HERALD].settings.max_body_bytes
        return BodyTooLarge(f"the body is larger than {limit:,} bytes.", field="body")
    if isinstance(exc, web.HTTPException):
        if not request.path.startswith("/api/") or exc.status < 400:
            return None
        if exc.status == 404:
            return NotFound(
                f"no route {request.method} {request.path}.", hint="See /api/openapi.json for the routes."
            )
        if isinstance(exc, web.HTTPMethodNotAllowed):
            allowed = ", ".join(sorted(exc.allowed_methods))
            return HttpError(
                f"{request.method} is not allowed on {request.path}; it takes {allowed}.",
                status=405,
                code="method_not_allowed",
            )
        return HttpError(exc.reason or "request refused", status=exc.status, code="http")
    log.exception("unexpected error on %s %s", request.method, _route_name(request))
    return HttpError("Herald hit an unexpected error; nothing was changed.", status=500, code="internal")


@web.middleware
async def _auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/api/"):
        expected = request.app[HERALD].settings.api_token
        if expected is None or not expected.get_secret_value():
            raise Unauthorized(
                "the REST API is disabled because API_TOKEN is not set.",
                hint="Set API_TOKEN on the server and send it as 'Authorization: Bearer <token>'.",
            )
        token = bearer_token(request)
        if token is None or not hmac.compare_digest(token.encode(), expected.get_secret_value().encode()):
            raise Unauthorized(
                "missing or wrong bearer token.",
                hint="Send 'Authorization: Bearer <API_TOKEN>'.",
            )
    return await handler(request)


@web.middleware
async def _clean_url(request: web.Request, handler: Handler) -> web.StreamResponse:
    """No path or query parameter of the REST API holds a NUL character (text cannot store one)."""
    if request.path.startswith("/api/"):
        refuse_nul_in_url(request)
    return await handler(request)
