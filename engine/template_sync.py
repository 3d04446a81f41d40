"""Template sync: the Cloud API's template list into the local registry."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.errors import Invalid
from engine.templates import Templates


@dataclass
class SyncReport:
    synced: int = 0
    approved: int = 0
    skipped: list[str] = field(default_factory=list)  # "name (language): why"

    def as_dict(self) -> dict[str, Any]:
        return {"synced": self.synced, "approved": self.approved, "skipped": self.skipped}


def sync(templates: Templates, items: Iterable[Mapping[str, Any]], *, source: str) -> SyncReport:
    """Upsert every template Meta listed (call inside a transaction)."""
    report = SyncReport()
    for item in items:
        name = str(item.get("name", ""))
        language = str(item.get("language", ""))
        try:
            if not name or not language:
                raise Invalid("it has no name or language")
            templates.upsert(
                name=name,
                language=language,
                category=str(item.get("category", "")),
                status=str(item.get("status", "")),
                components=list(item.get("components") or []),
                parameter_format=str(item.get("parameter_format") or "POSITIONAL"),
                source=source,
                meta_id=str(item["id"]) if item.get("id") is not None else None,
                reason=item.get("rejected_reason") or None,
            )
        except Invalid as exc:
            report.skipped.append(f"{name or '?'} ({language or '?'}): {exc.render()}")
            continue
        report.synced += 1
        report.approved += str(item.get("status", "")).upper() == "APPROVED"
    return report
