"""A broadcast's live funnel: the one message Herald posts when it starts and edits as it goes.

    ▓▓▓▓▓▓▓▓░░░░░░░░░░░░ 40% · 4,000 / 10,000 handled · about 2 minutes left
    Sent 4,000 → Delivered 3,800 (95%) → Read 2,000 (50%) → Replied 12 (0%)
    Failed 30: 131026 Message undeliverable ×28; 131049 Marketing limit ×2
    Skipped 200 (frequency cap 180, opted out 20)
    Waiting 150 (messaging limit 150)

The same blocks answer ``broadcast show`` and ``broadcast stats``. Pure: the
moment "updated" and the send rate (for the ETA) are passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.faces import messages
from bot.slack.views.blocks import Block, clip, context, escape, fields, message, section
from engine.schedule import zone
from storage.states import EDITABLE, FINISHED, BroadcastStatus

TAGS_TEXT = 600


def funnel_message(broadcast: Mapping[str, Any], *, now: datetime, mps: int) -> dict[str, Any]:
    """The live funnel message for ``broadcast`` (a broadcast view) at ``now``."""
    title = messages.broadcast_title(broadcast["id"], broadcast["name"])
    status = messages.status_line(broadcast["status"], broadcast.get("status_reason"))
    return message(escape(f"{title}: {status}"), funnel_blocks(broadcast, now=now, mps=mps))


def funnel_blocks(broadcast: Mapping[str, Any], *, now: datetime, mps: int) -> list[Block]:
    b = broadcast
    funnel = b["funnel"]
    total, pending, sent = funnel["total"], funnel.get("pending", 0), funnel["sent"]
    done = total - pending
    title = escape(messages.broadcast_title(b["id"], b["name"]))
    tags = clip(messages.tags_line(b["tags"]), TAGS_TEXT)
    headline = f"*{title}* · {escape(_status(b))}\n`{clip(b['template'], TAGS_TEXT)}` → {tags}"
    if b.get("scheduled_for") and b["status"] in EDITABLE:
        headline += f"\n{b['scheduled_for']}"
    held = funnel.get("held") or {}
    bar = f"`{messages.progress(done, total)}` · {messages.sent_of(done, total)}"
    moving = pending - sum(held.values())  # held rows go when their rule lets them, not at the rate
    if b["status"] == BroadcastStatus.SENDING and moving > 0:
        bar += f" · {messages.eta(moving / mps if mps else 0)}"
    stages = [
        messages.stage(label, funnel[key], sent)
        for label, key in zip(messages.STAGES, ("sent", "delivered", "read", "replied"), strict=True)
    ]
    blocks: list[Block] = [
        section(headline),
        section(bar),
        fields(
            [
                *stages,
                messages.failed_line(funnel["failed"]),
                messages.skipped_line(funnel.get("skipped") or {}),
                *([messages.held_line(held)] if held else []),
            ]
        ),
    ]
    if funnel.get("failed_reasons"):
        blocks.append(section(f"*Failed:* {escape(messages.reasons(funnel['failed_reasons']))}"))
    local = now.astimezone(zone(b["timezone"]))
    blocks.append(context(f"Broadcast #{b['id']}", messages.updated_at(f"{local:%H:%M} {b['timezone']}")))
    return blocks


def _status(broadcast: Mapping[str, Any]) -> str:
    status = broadcast["status"]
    if status in FINISHED:
        started, ended = broadcast.get("started_at"), broadcast.get("completed_at")
        minutes = None
        if started and ended:
            minutes = (_parse(ended) - _parse(started)).total_seconds() / 60
        text = messages.finished(status, minutes)
        return f"✅ {text}" if status == BroadcastStatus.COMPLETED else text
    return messages.status_line(status, broadcast.get("status_reason"))


def _parse(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))
