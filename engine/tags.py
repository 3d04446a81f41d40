"""Tag names: trimmed, lower-case, de-duplicated, and limited to a readable alphabet."""

from __future__ import annotations

import re
from collections.abc import Iterable

from engine.errors import Invalid

_ALLOWED = re.compile(r"[a-z0-9][a-z0-9_\-.:/]{0,63}")


def normalize_tag(raw: str, *, field: str = "tags") -> str:
    """``"  VIP "`` → ``"vip"``. Raises Invalid for an empty or unreadable name."""
    if not isinstance(raw, str):
        raise Invalid("a tag must be text.", field=field)
    tag = raw.strip().lower()
    if not tag:
        raise Invalid("a tag is empty.", field=field, hint="Remove the empty tag.")
    if not _ALLOWED.fullmatch(tag):
        raise Invalid(
            f"tag {raw.strip()!r} has characters Herald does not accept.",
            field=field,
            hint="Use letters, digits, and _ - . : / (at most 64 characters), like vip or diwali-2026.",
        )
    return tag


def normalize_tags(raw: Iterable[str], *, field: str = "tags") -> list[str]:
    """Normalised, de-duplicated, in first-seen order."""
    seen: dict[str, None] = {}
    for item in raw:
        seen[normalize_tag(item, field=field)] = None
    return list(seen)


def split_tags(text: str) -> list[str]:
    """A CSV or chat tag list (``vip;gold`` / ``vip, gold`` / ``vip|gold``), normalised."""
    parts = [p for p in re.split(r"[,;|]", text or "") if p.strip()]
    return normalize_tags(parts)
