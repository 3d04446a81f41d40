"""Block Kit building blocks that stay inside Slack's limits, whatever the content.

Every text is clipped to its element's limit and every list is cut to fit,
with "…" where something was left out, so a long contact name, a hundred tags
or twenty failure reasons can never make Slack refuse a message
(``invalid_blocks``). The limits are Slack's, as slack_sdk's validators state
them; ``TOTAL_TEXT`` is a margin under the (undocumented) ~13,000 characters
Slack accepts summed over a message's blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

MAX_BLOCKS = 50
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 2000
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
FALLBACK_TEXT = 3000  # the notification text; Slack truncates message text at 40,000
TOTAL_TEXT = 12000

Block = dict[str, Any]


def escape(text: str) -> str:
    """Text a person wrote, made safe for mrkdwn: ``& < >`` as Slack wants them."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in "…" when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def lines_within(lines: Sequence[str], limit: int, more: str = "…and {n} more") -> str:
    """As many whole lines as fit in ``limit`` characters, then how many were left out."""
    whole = "\n".join(lines)
    if len(whole) <= limit:
        return whole
    room = limit - len(more) - 12  # what the "…and N more" line needs
    kept: list[str] = []
    size = 0
    for index, written in enumerate(lines):
        line = clip(written, room - 1)
        if size + len(line) + 1 > room:
            kept.append(more.format(n=f"{len(lines) - index:,}"))
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, HEADER_TEXT), "emoji": True}}


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_TEXT)}}


def fields(texts: Iterable[str]) -> Block:
    items = [{"type": "mrkdwn", "text": clip(t, FIELD_TEXT)} for t in texts][:SECTION_FIELDS]
    return {"type": "section", "fields": items}


def context(*texts: str) -> Block:
    items = [{"type": "mrkdwn", "text": clip(t, CONTEXT_TEXT)} for t in texts if t][:CONTEXT_ELEMENTS]
    return {"type": "context", "elements": items}


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(text, BUTTON_TEXT), "emoji": True},
        "action_id": action_id[:ACTION_ID],
        "value": value[:BUTTON_VALUE],
    }
    if style:
        element["style"] = style
    return element


def actions(*elements: Block, block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements)[:ACTIONS_ELEMENTS]}
    if block_id:
        block["block_id"] = block_id[:ACTION_ID]
    return block


def message(fallback: str, blocks: list[Block]) -> dict[str, Any]:
    """A message body: the notification text and the blocks, cut to Slack's limits."""
    return {"text": clip(fallback, FALLBACK_TEXT), "blocks": fit(blocks)}


def fit(blocks: list[Block]) -> list[Block]:
    """At most MAX_BLOCKS blocks and TOTAL_TEXT characters of text; an actions block is kept."""
    buttons = [b for b in blocks if b.get("type") == "actions"]
    rest = [b for b in blocks if b.get("type") != "actions"][: MAX_BLOCKS - len(buttons)]
    kept: list[Block] = []
    budget = TOTAL_TEXT
    for block in rest:
        size = text_size(block)
        if size > budget:
            break
        budget -= size
        kept.append(block)
    return kept + buttons


def text_size(block: Block) -> int:
    """Characters of text in a block (what Slack's overall limit counts)."""
    total = 0
    text = block.get("text")
    if isinstance(text, dict):
        total += len(text.get("text", ""))
    for item in block.get("fields", []) + block.get("elements", []):
        inner = item.get("text")
        total += len(inner.get("text", "")) if isinstance(inner, dict) else len(inner or "")
    return total
