"""A broadcast in Block Kit: its preview with Confirm / Cancel, what a click did, and its report.

Pure functions of the face-neutral answers (``bot.faces.answers``). A button's
value is ``"<broadcast id>:<intent>:<fingerprint>"``, so a click needs nothing
but itself, and confirms only what its preview showed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.faces import messages
from bot.faces.answers import BroadcastDone, BroadcastPreview, BroadcastReport, Intent, Outcome
from bot.faces.text import limit_lines, outcome_text, when
from bot.slack.views.blocks import (
    SECTION_TEXT,
    Block,
    actions,
    button,
    clip,
    context,
    escape,
    fields,
    header,
    lines_within,
    message,
    section,
)
from bot.slack.views.funnel import funnel_blocks

RECIPIENT_LINE = 280  # ten of them fit one section
CONFIRM_ACTION = "herald_confirm"
CANCEL_ACTION = "herald_cancel"
RESUME_ACTION = "herald_resume"  # on a circuit breaker's alert: its value is the broadcast id


def button_value(broadcast_id: int, intent: Intent, fingerprint: str) -> str:
    return f"{broadcast_id}:{intent.value}:{fingerprint}"


def read_button_value(value: str) -> tuple[int, Intent, str | None]:
    """``"42:confirm:9f2c…"`` → (42, Intent.CONFIRM, "9f2c…"); a button from before fingerprints
    (``"42:confirm"``) has None. Raises ValueError for anything else."""
    head, _, tail = value.partition(":")
    intent, _, fingerprint = tail.partition(":")
    return int(head), Intent(intent or Intent.CONFIRM.value), fingerprint or None


def title(broadcast: Mapping[str, Any]) -> str:
    return messages.broadcast_title(broadcast["id"], broadcast["name"])


def preview_message(answer: BroadcastPreview) -> dict[str, Any]:
    b, p = answer.broadcast, answer.preview
    schedules = answer.intent is Intent.CONFIRM and bool(b.get("scheduled_at"))
    blocks: list[Block] = [header(title(b))]
    if answer.changed:
        blocks.append(section(messages.preview_changed()))
    blocks += [
        fields(
            [
                f"*Template*\n{messages.template_line(b['template'], b['category'], b['language'])}",
                f"*Tags*\n{messages.tags_line(b['tags'])}",
                f"*When*\n{when(answer)}",
                f"*Sending takes*\n{messages.duration(p.seconds)}",
            ]
        ),
        section(
            "*Who gets it*\n"
            + "\n".join(messages.waterfall(p.matched, p.opted_out, p.deleted, p.capped, p.will_send))
        ),
    ]
    limit = limit_lines(answer)
    if limit:
        blocks.append(section("\n".join(escape(line) for line in limit)))
    if p.sample:
        people = [
            clip(escape(messages.recipient(c["name"], c["phone"], c["tags"])), RECIPIENT_LINE)
            for c in p.sample
        ]
        heading = f"*{messages.first_recipients(len(p.sample), p.total)}*\n"
        blocks.append(section(heading + lines_within(people, SECTION_TEXT - len(heading))))
    if p.will_send == 0:
        blocks.append(section(messages.nobody_to_send_to()))
    if answer.intent is not None:
        value = button_value(b["id"], answer.intent, answer.fingerprint)
        blocks.append(context(messages.confirm_hint(schedules)))
        blocks.append(
            actions(
                button(messages.confirm_label(schedules), CONFIRM_ACTION, value, style="primary"),
                button(messages.cancel_label(), CANCEL_ACTION, value, style="danger"),
                block_id=f"broadcast_{b['id']}",
            )
        )
    fallback = f"{title(b)}: {p.will_send:,} contacts, {when(answer)}"
    return message(escape(fallback), blocks)


def done_message(answer: BroadcastDone) -> dict[str, Any]:
    b = answer.broadcast
    said = outcome_text(answer, f"<@{answer.by.id}>" if answer.by.face == "slack" else escape(answer.by.id))
    blocks = [header(title(b)), section(said)]
    if answer.outcome is Outcome.STARTED:
        blocks.append(context(messages.funnel_follows()))
    return message(said, blocks)


def report_message(answer: BroadcastReport, *, now: datetime, mps: int) -> dict[str, Any]:
    b = answer.broadcast
    return message(escape(title(b)), funnel_blocks(b, now=now, mps=mps))
