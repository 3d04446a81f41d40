"""The daily digest: yesterday's numbers in ``DIGEST_CHANNEL`` at ``DIGEST_TIME`` (local, ``TIMEZONE``).

A job on the scheduler tick, called every pass on a database thread. Before
the time, or once today's digest is done, it returns at once without touching
the database. When due, it claims the day (``storage.digests``: one claim
among any number of schedulers), counts (``engine.stats``), draws the week's
chart when the week had any sends, and hands the posting to the Slack loop;
the claim is marked posted when Slack accepted the message, and released for
the next pass when it did not.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from bot.container import Herald
from bot.faces import messages
from bot.faces.answers import StatsReport
from bot.grammar.periods import days, period
from bot.slack.chart import week_chart
from bot.slack.client import Poster
from bot.slack.views.stats import stats_message
from engine import stats
from engine.schedule import zone
from storage import digests

log = logging.getLogger("herald.slack")
LEASE = timedelta(minutes=10)
RETRY = timedelta(minutes=1)  # before asking again: another scheduler is posting, or Slack refused


class DigestJob:
    def __init__(
        self,
        herald: Herald,
        poster: Poster,
        *,
        channel: str,
        at: time,
        timezone: str,
        chart: bool = True,
    ) -> None:
        self.herald = herald
        self.poster = poster
        self.channel = channel
        self.at = at
        self.timezone = timezone
        self.zone = zone(timezone)
        self.chart = chart
        self._done: str | None = None  # the local day whose digest is posted (or being posted here)
        self._not_before: datetime | None = None

    def __call__(self) -> str | None:
        """One tick pass: the day claimed, or None when there was nothing to do."""
        now = self.herald.clock.now()
        local = now.astimezone(self.zone)
        day = local.date().isoformat()
        if local.time() < self.at or self._done == day:
            return None
        if self._not_before is not None and now < self._not_before:
            return None
        database = self.herald.database
        if not digests.claim(database, day, self.channel, now, LEASE):
            if digests.is_posted(database, day, self.channel):
                self._done = day
            else:
                self._not_before = now + RETRY
            return None
        self._done = day
        try:
            report, chart = self._compose(now)
        except Exception:
            digests.release(database, day, self.channel)
            self._done = None
            raise
        self.poster.submit(self._post(day, report, chart))
        return day

    def _compose(self, now: datetime) -> tuple[StatsReport, bytes | None]:
        database = self.herald.database
        window = period("yesterday", now=now, tz=self.timezone)
        first = window.start.astimezone(self.zone).date()
        week_days = [first - timedelta(days=back) for back in range(6, -1, -1)]
        week_windows = [days(d.isoformat(), d, d, self.timezone) for d in week_days]
        week = stats.totals(database, [(w.start, w.end) for w in week_windows])
        labelled = [(f"{d:%a} {d.day}", totals) for d, totals in zip(week_days, week, strict=True)]
        report = StatsReport(
            label="yesterday",
            timezone=self.timezone,
            period=stats.report(database, window.start, window.end),
            week=labelled,
        )
        chart = None
        if self.chart and any(t.sent or t.failed for _, t in labelled):
            chart = week_chart(labelled, messages.chart_title(self.timezone))
        return report, chart

    async def _post(self, day: str, report: StatsReport, chart: bytes | None) -> None:
        client = self.poster.client
        first = report.period.start.astimezone(self.zone)
        title = messages.digest_title(f"{first:%a} {first.day} {first:%b %Y}", self.timezone)
        try:
            await client.chat_postMessage(channel=self.channel, **stats_message(report, title=title))
        except Exception:
            await self.herald.db(digests.release, self.herald.database, day, self.channel)
            self._done = None
            self._not_before = self.herald.clock.now() + RETRY  # Slack is down: not every second
            raise
        await self.herald.db(digests.posted, self.herald.database, day, self.channel, self.herald.clock.now())
        if chart is not None:
            await client.files_upload_v2(
                channel=self.channel,
                file=chart,
                filename=f"herald-week-{day}.png",
                title=messages.chart_title(self.timezone),
                alt_txt=messages.chart_alt(),
            )
