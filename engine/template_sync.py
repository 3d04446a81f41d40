"""Template sync: the Cloud API's template list (or the sandbox's catalogue) into the registry.

One use case for every face (REST, chat, the CLI, the demo): ``TemplateSync.run``
fetches, upserts in one transaction and records who asked in the audit log.
Whether the list comes from Meta or the sandbox is decided once, at the
composition root.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import peewee

from engine import views
from engine.actor import Actor
from engine.audit import Audit
from engine.errors import HeraldError, Invalid, Unavailable
from engine.limit import Limits
from engine.sender import Sender
from engine.templates import Templates

FETCH_TIMEOUT = 60.0  # seconds to wait for the template list


@dataclass
class SyncReport:
    synced: int = 0
    approved: int = 0
    skipped: list[str] = field(default_factory=list)  # "name (language): why"

    def as_dict(self) -> views.SyncReport:
        return {"synced": self.synced, "approved": self.approved, "skipped": self.skipped}


class TemplateSync:
    def __init__(
        self,
        database: peewee.Database,
        templates: Templates,
        audit: Audit,
        sender: Sender,
        *,
        source: str,
        limits: Limits | None = None,
    ) -> None:
        self.db = database
        self.templates = templates
        self.audit = audit
        self.sender = sender
        self.source = source  # "cloud" or "sandbox": recorded on every template
        self.limits = limits  # the messaging limit is read again with the templates

    def run(self, *, by: Actor) -> SyncReport:
        """Fetch and store every template (and read the messaging limit again). Raises
        Unavailable when WhatsApp does not answer."""
        return self.store(self.fetch(), by=by, limit=self.fetch_limit())

    def fetch(self) -> list[dict[str, Any]]:
        """The template list, from any thread; needs no database connection.

        Raises the client's DeliveryError as it is, and Unavailable for anything
        else that kept the list from arriving (a timeout, a dropped connection).
        """
        try:
            return list(self.sender.call(self.sender.api.templates(), timeout=FETCH_TIMEOUT))
        except HeraldError:
            raise
        except Exception as exc:
            raise Unavailable(
                f"WhatsApp did not return the template list ({type(exc).__name__}).",
                hint="Try again shortly.",
            ) from exc

    def fetch_limit(self) -> Any:
        """The business's messaging limit as Meta names it, read with the templates (from any
        thread; None when it could not be read: the stored limit stands)."""
        return self.limits.ask() if self.limits is not None else None

    def store(self, items: Iterable[Mapping[str, Any]], *, by: Actor, limit: Any = None) -> SyncReport:
        """Upsert every template listed, in one transaction, and audit the sync; keep the
        messaging limit ``fetch_limit`` read, if any."""
        if self.limits is not None:
            self.limits.keep(limit)
        with self.db.atomic():
            report = sync(self.templates, items, source=self.source)
            self.audit.record(
                face=by.face,
                actor=by.id,
                action="templates.sync",
                synced=report.synced,
                approved=report.approved,
                skipped=len(report.skipped),
            )
        return report


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
