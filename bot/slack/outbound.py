"""What Herald says in Slack unasked: live funnels, alerts, the daily digest. Wired once per process.

``connect(herald)`` adds the Slack notifier to ``herald.notifier`` and, with a
``DIGEST_CHANNEL``, the digest job to ``herald.tick``; it is called by every
process that may start, send or tick (``serve`` through ``create_app``, and
``worker`` and ``scheduler``), so a funnel keeps moving whichever process
does the work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.container import Herald
from bot.slack.client import Poster, web_client
from bot.slack.digest import DigestJob
from bot.slack.funnels import LiveFunnels
from bot.slack.notifier import SlackNotifier
from engine import views

DIGEST_JOB = "slack_digest"


@dataclass
class SlackOutbound:
    poster: Poster
    funnels: LiveFunnels
    notifier: SlackNotifier
    digest: DigestJob | None

    def close(self) -> None:
        self.poster.close()


def connect(herald: Herald) -> SlackOutbound:
    settings = herald.settings
    poster = Poster(web_client(settings))

    async def read(broadcast_id: int) -> views.Broadcast:
        return await herald.db(herald.broadcasts.get, broadcast_id)

    async def remember(broadcast_id: int, note: dict[str, Any]) -> Any:
        return await herald.db(herald.broadcasts.remember, broadcast_id, "slack", note)

    funnels = LiveFunnels(poster.client, read, remember, clock=herald.clock, mps=settings.whatsapp_mps)
    notifier = SlackNotifier(poster, funnels, alerts_channel=settings.digest_channel)
    herald.notifier.add(notifier)
    digest = None
    if settings.digest_channel:
        digest = DigestJob(
            herald,
            poster,
            channel=settings.digest_channel,
            at=settings.digest_time,
            timezone=settings.timezone,
        )
        herald.tick.add_job(DIGEST_JOB, digest)
    outbound = SlackOutbound(poster, funnels, notifier, digest)
    herald.closers.append(outbound.close)
    return outbound
