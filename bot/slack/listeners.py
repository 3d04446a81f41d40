"""Bolt listeners: slash commands, the preview's buttons, mentions and DMs.

Every listener acks first (Slack's 3 seconds) and then does the work on a
database thread through the shared command layer; answers go back through
``respond`` (the command's or the button's ``response_url``) or, in a
conversation, as a reply in its thread. A refusal to a non-admin is shown to
them alone (ephemeral).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.container import Herald
from bot.faces import messages
from bot.faces.answers import Answer, BroadcastDone, BroadcastPreview, Outcome, Refused, Said, Why
from bot.faces.commands import CommandHandler
from bot.faces.conversation import Conversation, Memories, Memory
from bot.faces.requests import Request
from bot.slack.people import People
from bot.slack.views.answers import render
from bot.slack.views.blocks import section
from bot.slack.views.broadcast import CONFIRM_ACTION, RESUME_ACTION, read_button_value
from engine.actor import Actor

log = logging.getLogger("herald.slack")
COMMANDS = ("broadcast", "sequence", "contacts", "templates", "stats")
SEEN_EVENTS = 1000


class SlackFace:
    def __init__(self, herald: Herald, people: People) -> None:
        self.herald = herald
        self.people = people
        self.handler = CommandHandler(herald)
        self.conversation = Conversation(self.handler)
        self.memories = Memories()
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()

    # -- slash commands ------------------------------------------------------------------

    async def on_command(
        self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        user, channel = command["user_id"], command["channel_id"]
        try:
            timezone = await self.people.timezone(client, user)
            text = f"{command['command'].lstrip('/')} {command.get('text') or ''}"
            answer = await self.herald.db(self.handler.run, text, self._request(user, channel, timezone))
        except Exception:
            log.exception("slash command %s failed", command.get("command"))
            answer = Said(messages.unexpected_error())
        await respond(response_type="ephemeral", **self._render(answer))

    # -- the preview's buttons -----------------------------------------------------------

    async def on_click(
        self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id", "")
        if action.get("action_id") == RESUME_ACTION:
            await self._resume(user, channel, action, respond)
            return
        try:
            broadcast_id, intent, seen = read_button_value(action.get("value", ""))
        except ValueError:
            log.warning("a button with an unreadable value was clicked")
            return
        request = self._request(user, channel, self.herald.settings.timezone)
        try:
            if action["action_id"] == CONFIRM_ACTION:
                answer = await self.herald.db(self.handler.confirm, broadcast_id, request, intent, seen=seen)
            else:
                answer = await self.herald.db(self.handler.discard, broadcast_id, request)
        except Exception:
            log.exception("a click on broadcast %s failed", broadcast_id)
            answer = Refused(messages.unexpected_error(), Why.UNAVAILABLE)
        late = isinstance(answer, BroadcastDone) and answer.outcome in (
            Outcome.ALREADY_CONFIRMED,
            Outcome.NOT_A_DRAFT,
        )
        if isinstance(answer, Refused) or late:  # only the clicker sees it; the message stays as it is
            await respond(response_type="ephemeral", replace_original=False, **self._render(answer))
            return
        self.memories.forget_pending(broadcast_id)
        await respond(replace_original=True, **self._render(answer))

    async def _resume(self, user: str, channel: str, action: dict[str, Any], respond: AsyncRespond) -> None:
        """A breaker alert's Resume: admins only; anyone else is told so, alone."""
        try:
            broadcast_id = int(action.get("value", ""))
        except ValueError:
            log.warning("a Resume button with an unreadable value was clicked")
            return
        request = self._request(user, channel, self.herald.settings.timezone)
        try:
            answer = await self.herald.db(self.handler.resume, broadcast_id, request)
        except Exception:
            log.exception("a Resume of broadcast %s failed", broadcast_id)
            answer = Refused(messages.unexpected_error(), Why.UNAVAILABLE)
        if isinstance(answer, Refused):
            await respond(response_type="ephemeral", replace_original=False, **self._render(answer))
            return
        await respond(replace_original=True, **self._render(answer))

    # -- mentions and DMs ----------------------------------------------------------------

    async def on_mention(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        thread = event.get("thread_ts") or event["ts"]
        await self._converse(event, client, thread, private=False)

    async def on_message(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("subtype"):
            return  # only people's own DMs: not the bot's posts, edits or joins
        await self._converse(event, client, event.get("thread_ts"), private=True)

    async def _converse(
        self, event: dict[str, Any], client: AsyncWebClient, thread: str | None, *, private: bool
    ) -> None:
        user, channel = event.get("user"), event["channel"]
        if not user or self._already_seen(channel, event["ts"]):
            return
        memory = self.memories.get((channel, thread))
        async with memory.turn:
            await self._turn(event, client, thread, private=private, memory=memory)

    async def _turn(
        self,
        event: dict[str, Any],
        client: AsyncWebClient,
        thread: str | None,
        *,
        private: bool,
        memory: Memory,
    ) -> None:
        user, channel = event["user"], event["channel"]
        earlier = (memory.pending, memory.ref)
        try:
            timezone = await self.people.timezone(client, user)
            request = self._request(user, channel, timezone, thread)
            answer = await self.herald.db(self.conversation.reply, event.get("text") or "", memory, request)
        except Exception:
            log.exception("a conversation turn failed")
            answer = Said(messages.unexpected_error())
        body = self._render(answer)
        where: dict[str, Any] = {"thread_ts": thread} if thread else {}
        if isinstance(answer, Refused) and answer.why is Why.FORBIDDEN and not private:
            await client.chat_postEphemeral(channel=channel, user=user, **where, **body)
            return
        posted = await client.chat_postMessage(channel=channel, **where, **body)
        if isinstance(answer, BroadcastPreview) and memory.pending == answer.broadcast["id"]:
            if earlier[0] == memory.pending and earlier[1]:  # the same draft, changed: retire the old preview
                replaced = messages.preview_replaced()
                await client.chat_update(
                    channel=channel, ts=earlier[1], text=replaced, blocks=[section(replaced)]
                )
            memory.ref = str(posted["ts"])

    # -- helpers -------------------------------------------------------------------------

    def _request(self, user: str, channel: str, timezone: str, thread: str | None = None) -> Request:
        where = {"channel": channel, "user": user, **({"thread_ts": thread} if thread else {})}
        return Request(
            actor=Actor("slack", user),
            admin=self.people.is_admin(user),
            timezone=timezone,
            notify={"slack": where},
            admins_setting="SLACK_ADMINS",
        )

    def _render(self, answer: Answer) -> dict[str, Any]:
        return render(answer, now=self.herald.clock.now(), mps=self.herald.settings.whatsapp_mps)

    def _already_seen(self, channel: str, ts: str) -> bool:
        """Slack redelivers an event it thinks was not received: answer each message once."""
        key = (channel, ts)
        if key in self._seen:
            return True
        self._seen[key] = None
        while len(self._seen) > SEEN_EVENTS:
            self._seen.popitem(last=False)
        return False
