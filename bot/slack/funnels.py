"""Live funnel messages: one Slack message per broadcast, posted when it starts, edited as it goes.

Runs on the Slack loop (``bot.slack.client.Poster``). ``touch(broadcast_id)``
marks a broadcast changed; one task per broadcast then reads the broadcast
afresh from the database and edits its message, at most once per
``interval`` seconds, and once more after the last change it saw (so a
status that arrives between two engine progress calls still shows). A
broadcast that has not posted its message yet posts it only when allowed
(on start, or on completion as a fallback), so two processes never post two.

Where the message is lives in the broadcast's ``notify["slack"]["message"]``
(``{"channel", "ts"}``), written once it is posted: a progress call in
another process (a worker, the scheduler) edits the same message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.views.funnel import funnel_message
from engine import views
from engine.clock import Clock
from storage.states import FINISHED

log = logging.getLogger("herald.slack")
EDIT_SECONDS = 3.0
# The channel cannot take the bot's message: tell the person who created the broadcast instead.
UNREACHABLE = frozenset({"not_in_channel", "channel_not_found", "is_archived", "restricted_action"})

Read = Callable[[int], Awaitable[views.Broadcast]]
Remember = Callable[[int, dict[str, Any]], Awaitable[Any]]


@dataclass
class _Live:
    may_post: bool = False
    dirty: bool = False
    task: asyncio.Task[None] | None = None
    last: float = float("-inf")  # loop time of the last post or edit
    shown: Any = None  # what the message shows (status and funnel)


class LiveFunnels:
    def __init__(
        self,
        client: AsyncWebClient,
        read: Read,
        remember: Remember,
        *,
        clock: Clock,
        mps: int,
        interval: float = EDIT_SECONDS,
    ) -> None:
        self.client = client
        self.read = read
        self.remember = remember
        self.clock = clock
        self.mps = mps
        self.interval = interval
        self._live: dict[int, _Live] = {}

    def touch(self, broadcast_id: int, may_post: bool = False) -> None:
        """The broadcast changed (call on the Slack loop)."""
        state = self._live.setdefault(broadcast_id, _Live())
        state.dirty = True
        state.may_post = state.may_post or may_post
        if state.task is None:
            state.task = asyncio.get_running_loop().create_task(self._follow(broadcast_id, state))

    async def idle(self) -> None:
        """Wait until no message is being posted or edited (the Slack tests wait on it)."""
        while tasks := [s.task for s in self._live.values() if s.task is not None]:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _follow(self, broadcast_id: int, state: _Live) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                wait = state.last + self.interval - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                touched, state.dirty = state.dirty, False
                view = await self.read(broadcast_id)
                shown = (view["status"], view.get("status_reason"), view["funnel"])
                if shown == state.shown and not touched:
                    break  # nothing new since the last edit: rest until the next touch
                if shown != state.shown and not await self._show(broadcast_id, view, state):
                    break
                state.shown = shown
                state.last = loop.time()
        except Exception:
            log.exception("the live funnel of broadcast %s could not be updated", broadcast_id)
        finally:
            state.task = None
            if state.dirty:  # touched while finishing: follow again
                self.touch(broadcast_id)
            elif state.shown is not None and state.shown[0] in FINISHED:
                self._live.pop(broadcast_id, None)

    async def _show(self, broadcast_id: int, view: views.Broadcast, state: _Live) -> bool:
        """Post or edit the message; False when there is nothing to edit and posting is not allowed."""
        target = (view.get("notify") or {}).get("slack") or {}
        body = funnel_message(view, now=self.clock.now(), mps=self.mps)
        where = target.get("message")
        if where is not None:
            await self.client.chat_update(channel=where["channel"], ts=where["ts"], **body)
            return True
        if not state.may_post or not target.get("channel"):
            return False
        where = await self._post(target, body)
        await self.remember(broadcast_id, {"message": where})
        return True

    async def _post(self, target: dict[str, Any], body: dict[str, Any]) -> dict[str, str]:
        thread: dict[str, Any] = {"thread_ts": target["thread_ts"]} if target.get("thread_ts") else {}
        try:
            answer = await self.client.chat_postMessage(channel=target["channel"], **thread, **body)
        except SlackApiError as exc:
            if exc.response.get("error") not in UNREACHABLE or not target.get("user"):
                raise
            log.info("channel not reachable (%s); the funnel goes to its creator", exc.response.get("error"))
            answer = await self.client.chat_postMessage(channel=target["user"], **body)
        return {"channel": str(answer["channel"]), "ts": str(answer["ts"])}
