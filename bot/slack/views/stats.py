"""A period's numbers in Block Kit: ``/stats [today|yesterday|7d]`` and the daily digest.

Ten figures compared with the period before, the broadcasts started in the
period with their funnels, and failures by reason. Pure.
"""

from __future__ import annotations

from typing import Any

from bot.faces import messages
from bot.faces.answers import StatsReport
from bot.slack.views.blocks import (
    SECTION_TEXT,
    Block,
    context,
    escape,
    fields,
    header,
    lines_within,
    message,
    section,
)


def stats_message(answer: StatsReport, *, title: str | None = None) -> dict[str, Any]:
    period = answer.period
    heading = title or messages.stats_title(answer.label, answer.timezone)
    if period.quiet:
        return message(heading, [header(heading), section(messages.quiet_period())])
    current, previous = period.totals, period.previous
    figures = []
    for label, key in messages.PERIOD_METRICS:
        now, before = getattr(current, key), getattr(previous, key)
        figures.append(f"*{label}*\n{now:,} ({messages.compared(now, before)})")
    blocks: list[Block] = [header(heading), fields(figures), context(messages.compared_with(answer.label))]
    count = len(period.broadcasts) + period.more_broadcasts
    if count:
        lines = [escape(messages.broadcast_funnel_line(b, b.name)) for b in period.broadcasts]
        if period.more_broadcasts:
            lines.append(messages.more_broadcasts(period.more_broadcasts))
        heading_line = f"*{messages.broadcasts_in_period(count)}*\n"
        blocks.append(section(heading_line + lines_within(lines, SECTION_TEXT - len(heading_line))))
    if current.failed_reasons:
        reasons = [f"{escape(label)} ×{n:,}" for label, n in current.failed_reasons.items()]
        heading_line = f"*{messages.failures_title()}*\n"
        blocks.append(section(heading_line + lines_within(reasons, SECTION_TEXT - len(heading_line))))
    fallback = f"{heading}: {messages.metric('Sent', current.sent, previous.sent)}"
    return message(fallback, blocks)
