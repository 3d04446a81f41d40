"""Slack users as Herald sees them: admin or not, and the timezone their times are read in.

The timezone is the ``tz`` of the user's Slack profile (``users.info``), kept
for an hour; when Slack does not say, Herald's ``TIMEZONE`` is used.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from engine.schedule import is_zone

log = logging.getLogger("herald.slack")
TIMEZONE_SECONDS = 3600


class People:
    def __init__(
        self,
        admins: Iterable[str],
        default_timezone: str,
        *,
        ttl: float = TIMEZONE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.admins = frozenset(admins)
        self.default_timezone = default_timezone
        self.ttl = ttl
        self.clock = clock
        self._zones: dict[str, tuple[float, str]] = {}

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.admins

    async def timezone(self, client: AsyncWebClient, user_id: str) -> str:
        """The IANA zone of ``user_id``'s Slack profile, or the default when it cannot be had."""
        now = self.clock()
        kept = self._zones.get(user_id)
        if kept is not None and now - kept[0] < self.ttl:
            return kept[1]
        zone = self.default_timezone
        try:
            answer = await client.users_info(user=user_id)
            found = (answer.get("user") or {}).get("tz")
            if found and is_zone(found):
                zone = found
            elif found:
                log.info("a Slack profile has a timezone Herald does not know; using %s", zone)
        except (SlackApiError, SlackClientError) as exc:
            log.info("no timezone for a Slack user (%s); using %s", type(exc).__name__, zone)
        except Exception as exc:  # Slack unreachable or slow: answer now, ask again next time
            log.info("users.info failed (%s); using %s", type(exc).__name__, zone)
            return zone
        self._zones[user_id] = (now, zone)
        return zone
