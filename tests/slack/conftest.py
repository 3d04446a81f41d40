"""The Slack scenarios' world: the running app wired to the fake Cloud API and the fake Slack API.

Requests are real Slack payloads (form-encoded slash commands, JSON events,
``payload=`` interactivity), signed with the signing secret and posted to
``/slack/events`` through a real socket.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from slack_sdk.signature import SignatureVerifier

from bot.slack.app import SLACK, SlackParts
from bot.slack.client import Poster
from tests.fakes.slack_api import BOT_TOKEN, TEAM, FakeSlackApi
from tests.live import Live

SIGNING_SECRET = "fake-signing-secret-0123"
ADMIN = "U0ADMIN"
READER = "U0READER"
KOLKATA_ADMIN = "U0ASHA"
NEW_YORK_ADMIN = "U0NYC"
CHANNEL = "C0GROWTH"


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlackApi]:
    zones = {ADMIN: "UTC", READER: "UTC", KOLKATA_ADMIN: "Asia/Kolkata", NEW_YORK_ADMIN: "America/New_York"}
    async with FakeSlackApi(zones=zones) as fake:
        yield fake


@pytest.fixture
def slack_overrides() -> dict[str, Any]:
    """Override in a module for more settings (a digest channel)."""
    return {}


@pytest.fixture
def live_overrides(slack_api: FakeSlackApi, slack_overrides: dict[str, Any]) -> dict[str, Any]:
    return {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack_api.url,
        "slack_admins": f"{ADMIN},{KOLKATA_ADMIN},{NEW_YORK_ADMIN}",
        **slack_overrides,
    }


@dataclass
class Answered:
    status: int
    body: str
    seconds: float
    key: str  # the response_url key of a slash command or click


class SlackWorld:
    def __init__(self, live: Live, fake: FakeSlackApi) -> None:
        self.live = live
        self.fake = fake
        self._n = 0
        parts: SlackParts = live.client.app[SLACK]
        self.parts = parts
        parts.outbound.funnels.interval = 0.05  # Slack edits at most every 3 s; tests need not wait
        live.herald.progress.interval = 0.0  # and let every engine progress call through

    # -- sending Slack's requests --------------------------------------------------------

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str = SIGNING_SECRET,
    ) -> Answered:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        }
        started = time.perf_counter()
        async with self.live.client.post("/slack/events", data=body.encode(), headers=headers) as response:
            text = await response.text()
            return Answered(response.status, text, time.perf_counter() - started, "")

    def command_body(self, line: str, *, user: str = ADMIN, channel: str = CHANNEL) -> tuple[str, str]:
        name, _, text = line.partition(" ")
        key = self._key("command")
        form = {
            "token": "deprecated-verification-token",
            "team_id": TEAM,
            "team_domain": "herald",
            "channel_id": channel,
            "channel_name": "growth",
            "user_id": user,
            "user_name": user.lower(),
            "command": name,
            "text": text,
            "api_app_id": "A0HERALD",
            "is_enterprise_install": "false",
            "response_url": self.fake.response_url(key),
            "trigger_id": f"{self._n}.1.abc",
        }
        return urlencode(form), key

    async def command(self, line: str, *, user: str = ADMIN, channel: str = CHANNEL) -> Answered:
        """``/broadcast promo tags:vip now`` as Slack posts it."""
        body, key = self.command_body(line, user=user, channel=channel)
        answered = await self.post(body, "application/x-www-form-urlencoded")
        answered.key = key
        return answered

    async def answer(self, key: str, *, count: int = 1, timeout: float = 10.0) -> dict[str, Any]:
        """The ``count``-th thing Herald posted to a response_url (waiting for it)."""
        found = await self.fake.wait(lambda: len(self.fake.answered(key)) >= count, timeout)
        assert found
        return self.fake.answered(key)[count - 1]

    async def click(
        self, answer: dict[str, Any], action_id: str, *, user: str = ADMIN, channel: str = CHANNEL
    ) -> Answered:
        """Click a button of a message Herald sent (``answer`` is its body)."""
        button = next(
            e
            for b in answer["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == action_id
        )
        key = self._key("click")
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": TEAM},
            "api_app_id": "A0HERALD",
            "token": "deprecated-verification-token",
            "container": {
                "type": "message",
                "message_ts": "1.000001",
                "channel_id": channel,
                "is_ephemeral": True,
            },
            "trigger_id": f"{self._n}.2.def",
            "team": {"id": TEAM, "domain": "herald"},
            "channel": {"id": channel, "name": "growth"},
            "message": {"type": "message", "ts": "1.000001", "text": answer.get("text", "")},
            "response_url": self.fake.response_url(key),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b",
                    "value": button["value"],
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        answered = await self.post(
            urlencode({"payload": orjson.dumps(payload).decode()}), "application/x-www-form-urlencoded"
        )
        answered.key = key
        return answered

    async def event(self, event: dict[str, Any]) -> Answered:
        self._n += 1
        envelope = {
            "token": "deprecated-verification-token",
            "team_id": TEAM,
            "api_app_id": "A0HERALD",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{self._n:08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": "U0HERALDBOT", "is_bot": True}],
        }
        return await self.post(orjson.dumps(envelope).decode(), "application/json")

    async def dm(self, text: str, *, user: str = ADMIN, channel: str = "D0ADMIN") -> Answered:
        self._n += 1
        return await self.event(
            {
                "type": "message",
                "channel_type": "im",
                "user": user,
                "text": text,
                "channel": channel,
                "ts": self._ts(),
            }
        )

    async def mention(
        self, text: str, *, user: str = ADMIN, channel: str = CHANNEL, thread: str | None = None
    ) -> Answered:
        self._n += 1
        event = {
            "type": "app_mention",
            "user": user,
            "text": f"<@U0HERALDBOT> {text}",
            "channel": channel,
            "ts": self._ts(),
        }
        if thread:
            event["thread_ts"] = thread
        return await self.event(event)

    # -- reading what Herald did ---------------------------------------------------------

    def posts(self, channel: str) -> list[dict[str, Any]]:
        return [c.args for c in self.fake.of("chat.postMessage") if c.args.get("channel") == channel]

    async def idle(self) -> None:
        """Every live-funnel edit in flight has reached the fake."""
        outbound = self.parts.outbound
        await asyncio.wait_for(asyncio.wrap_future(outbound.poster.submit(outbound.funnels.idle())), 30)

    async def quiet(self, *posters: Poster) -> None:
        """Everything handed to the Slack loop (this app's and ``posters``) has finished."""
        for poster in (self.parts.outbound.poster, *posters):
            await asyncio.wait_for(asyncio.wrap_future(poster.submit(_settled())), 30)

    def _key(self, kind: str) -> str:
        self._n += 1
        return f"{kind}-{self._n}"

    def _ts(self) -> str:
        return f"{1_790_000_000 + self._n}.{self._n:06d}"


async def _settled() -> None:
    while [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]:
        await asyncio.sleep(0.01)


@pytest.fixture
async def slack(live: Live, slack_api: FakeSlackApi) -> SlackWorld:
    return SlackWorld(live, slack_api)
