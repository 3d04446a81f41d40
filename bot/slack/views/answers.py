"""Any answer of the command layer as a Slack message body (``text`` + ``blocks``)."""

from __future__ import annotations

from datetime import datetime
from functools import singledispatch
from typing import Any

from bot.faces import messages, text
from bot.faces.answers import (
    Answer,
    Asked,
    BroadcastDone,
    BroadcastListing,
    BroadcastPreview,
    BroadcastReport,
    Refused,
    Said,
    SequenceListing,
    SequenceReport,
    StatsReport,
    TemplateListing,
)
from bot.slack.views.blocks import SECTION_TEXT, escape, header, lines_within, message, section
from bot.slack.views.broadcast import done_message, preview_message, report_message
from bot.slack.views.stats import stats_message


def render(answer: Answer, *, now: datetime, mps: int) -> dict[str, Any]:
    """``{"text": ..., "blocks": [...]}`` for ``answer``, inside Slack's limits."""
    if isinstance(answer, BroadcastReport):
        return report_message(answer, now=now, mps=mps)
    return _render(answer)


@singledispatch
def _render(answer: Answer) -> dict[str, Any]:
    return _plain(text.render(answer))


def _plain(said: str) -> dict[str, Any]:
    safe = escape(said)
    return message(safe, [section(safe)])


@_render.register
def _said(answer: Said) -> dict[str, Any]:
    return _plain(answer.text)


@_render.register
def _refused(answer: Refused) -> dict[str, Any]:
    return _plain(answer.text)


@_render.register
def _asked(answer: Asked) -> dict[str, Any]:
    return _plain(answer.text)


@_render.register
def _preview(answer: BroadcastPreview) -> dict[str, Any]:
    return preview_message(answer)


@_render.register
def _done(answer: BroadcastDone) -> dict[str, Any]:
    return done_message(answer)


@_render.register
def _stats(answer: StatsReport) -> dict[str, Any]:
    return stats_message(answer)


def _listed(title: str, lines: list[str], empty: str) -> dict[str, Any]:
    if not lines:
        return _plain(empty)
    body = lines_within([escape(line) for line in lines], SECTION_TEXT)
    return message(escape(title), [header(title), section(body)])


@_render.register
def _broadcasts(answer: BroadcastListing) -> dict[str, Any]:
    lines = [
        messages.broadcast_row(b["id"], b["name"], b["status"], b["funnel"]["sent"], b["funnel"]["total"])
        for b in answer.broadcasts
    ]
    return _listed(answer.title.replace("`", ""), lines, messages.no_broadcasts())


@_render.register
def _templates(answer: TemplateListing) -> dict[str, Any]:
    lines = [
        messages.template_row(t["name"], t["language"], t["category"], t["status"]) for t in answer.templates
    ]
    return _listed(messages.templates_title(len(lines)), lines, messages.no_templates())


@_render.register
def _sequences(answer: SequenceListing) -> dict[str, Any]:
    return _plain(text.render(answer))


@_render.register
def _sequence(answer: SequenceReport) -> dict[str, Any]:
    return _plain(text.render(answer))
