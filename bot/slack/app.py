"""The bolt app, mounted at ``POST /slack/events`` on Herald's one aiohttp application.

Herald reads the body (``bot.web.bodies``: the size limit, the stall timeout,
inflating) and hands it to bolt. Bolt verifies every request's signature and
timestamp (a bad or stale one is answered 401 and reaches no listener),
answers Slack's ``ssl_check`` and ``url_verification``, and runs listeners
after acking (``process_before_response`` off: the HTTP answer leaves as soon
as ``ack()`` is called). ``authorize`` hands bolt the bot token, so no
``auth.test`` call is needed.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.container import Herald
from bot.errors import Unauthorized
from bot.slack.client import web_client
from bot.slack.listeners import COMMANDS, SlackFace
from bot.slack.outbound import SlackOutbound, connect
from bot.slack.people import People
from bot.slack.views.broadcast import CANCEL_ACTION, CONFIRM_ACTION, RESUME_ACTION
from bot.web.bodies import read_body
from bot.web.http import ascii_header

ROUTE = "/slack/events"


class SlackParts:
    """What the mounted Slack face is made of (tests and shutdown reach it through the app)."""

    def __init__(self, bolt: AsyncApp, face: SlackFace, outbound: SlackOutbound) -> None:
        self.bolt = bolt
        self.face = face
        self.outbound = outbound


SLACK: web.AppKey[SlackParts] = web.AppKey("slack")


class _TokenGivenTwice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment on its own and then warns that the token
    is unused, since ``authorize`` supplies it: true, and harmless, but alarming in a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def bolt_app(herald: Herald, face: SlackFace) -> AsyncApp:
    settings = herald.settings
    assert settings.slack_bot_token is not None
    assert settings.slack_signing_secret is not None
    token = settings.slack_bot_token.get_secret_value()

    async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=token)

    logger = logging.getLogger("herald.slack.bolt")
    if not any(isinstance(f, _TokenGivenTwice) for f in logger.filters):
        logger.addFilter(_TokenGivenTwice())
    app = AsyncApp(
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        client=web_client(settings, with_token=False),
        authorize=authorize,
        process_before_response=False,
        logger=logger,
    )

    # Plain functions: bolt passes arguments by parameter name.
    async def command(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await face.on_command(ack, command, respond, client)

    async def click(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await face.on_click(ack, body, action, respond)

    async def mention(event: dict[str, Any], client: AsyncWebClient) -> None:
        await face.on_mention(event, client)

    async def message(event: dict[str, Any], client: AsyncWebClient) -> None:
        await face.on_message(event, client)

    for name in COMMANDS:
        app.command(f"/{name}")(command)
    app.action(CONFIRM_ACTION)(click)
    app.action(CANCEL_ACTION)(click)
    app.action(RESUME_ACTION)(click)
    app.event("app_mention")(mention)
    app.event("message")(message)
    return app


SIGNATURE = "X-Slack-Signature"
TIMESTAMP = "X-Slack-Request-Timestamp"


def refuse_unreadable_signature(request: web.Request) -> None:
    """Raise Unauthorized when Slack's signature headers are there but cannot be Slack's:
    not ASCII, or a timestamp that is not a whole number. Bolt would raise on them (a 500)
    instead of refusing; it still checks everything else, in constant time."""
    for name in (SIGNATURE, TIMESTAMP):
        if name in request.headers and ascii_header(request, name) is None:
            raise Unauthorized(f"the {name} header is not ASCII.", field=name)
    timestamp = request.headers.get(TIMESTAMP)
    if timestamp is not None and not timestamp.strip().isdigit():
        raise Unauthorized(f"the {TIMESTAMP} header is not a Unix time.", field=TIMESTAMP)


def mount(app: web.Application, herald: Herald) -> SlackParts:
    """Serve Slack at ``/slack/events`` on ``app`` and connect the notifier and the digest."""
    settings = herald.settings
    face = SlackFace(herald, People(settings.slack_admins, settings.timezone))
    bolt = bolt_app(herald, face)
    parts = SlackParts(bolt, face, connect(herald))

    async def events(request: web.Request) -> web.Response:
        refuse_unreadable_signature(request)
        body = await read_body(request)  # within MAX_BODY_BYTES and the body timeout, inflated if gzipped
        bolt_request = AsyncBoltRequest(
            body=body.decode("utf-8", "replace"),  # not UTF-8: then not Slack's, and its signature fails
            query=request.query_string,
            headers=request.headers,  # type: ignore[arg-type]  # bolt reads any mapping of str
        )
        return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

    app.router.add_post(ROUTE, events)
    app[SLACK] = parts
    return parts
