"""The engine's Notifier for Slack: live funnels for broadcasts made in Slack, and alerts.

Called from engine threads; every method only hands work to the Slack loop and
returns. Broadcasts made elsewhere (the API, the shell) have no ``slack`` in
their ``notify`` and are ignored, except that their alerts go to
``DIGEST_CHANNEL`` when one is set.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.faces import messages
from bot.slack.client import Poster
from bot.slack.funnels import LiveFunnels
from bot.slack.views.blocks import actions, button, context, escape, message, section
from bot.slack.views.broadcast import RESUME_ACTION
from engine import alerts, views

log = logging.getLogger("herald.slack")
RESUMABLE = frozenset({alerts.BREAKER})  # alerts about a pause a person lifts, with a Resume button


class SlackNotifier:
    def __init__(self, poster: Poster, funnels: LiveFunnels, *, alerts_channel: str | None) -> None:
        self.poster = poster
        self.funnels = funnels
        self.alerts_channel = alerts_channel

    def broadcast_started(self, broadcast: views.Broadcast) -> None:
        self._touch(broadcast, may_post=True)

    def broadcast_progress(self, broadcast: views.Broadcast) -> None:
        self._touch(broadcast, may_post=False)

    def broadcast_completed(self, broadcast: views.Broadcast) -> None:
        self._touch(broadcast, may_post=True)  # posts the summary if the start was never posted

    def alert(self, kind: str, message: str, broadcast: Mapping[str, Any] | None = None) -> None:
        target = _slack(broadcast)
        where = target.get("message") or {}
        channel = where.get("channel") or target.get("channel") or self.alerts_channel
        if not channel:
            log.warning("alert %s has no Slack channel (set DIGEST_CHANNEL): %s", kind, message)
            return
        thread = where.get("ts") if where.get("channel") == channel else None
        self.poster.submit(self._post_alert(channel, thread, message, broadcast, kind))

    async def _post_alert(
        self, channel: str, thread: str | None, text: str, broadcast: Mapping[str, Any] | None, kind: str = ""
    ) -> None:
        said = escape(messages.alert(text))
        blocks = [section(said)]
        if broadcast is not None:
            blocks.append(context(f"Broadcast #{broadcast['id']}"))
        if broadcast is not None and kind in RESUMABLE:  # a rule paused it: an admin may resume it here
            blocks.append(context(messages.resume_hint()))
            blocks.append(
                actions(
                    button(messages.resume_label(), RESUME_ACTION, str(broadcast["id"]), style="primary"),
                    block_id=f"resume_{broadcast['id']}",
                )
            )
        extra: dict[str, Any] = {"thread_ts": thread, "reply_broadcast": True} if thread else {}
        await self.poster.client.chat_postMessage(channel=channel, **extra, **message(said, blocks))

    def _touch(self, broadcast: views.Broadcast, *, may_post: bool) -> None:
        if not _slack(broadcast):
            return
        self.poster.call_soon(self.funnels.touch, int(broadcast["id"]), may_post)


def _slack(broadcast: Mapping[str, Any] | None) -> dict[str, Any]:
    if not broadcast:
        return {}
    return dict((broadcast.get("notify") or {}).get("slack") or {})
