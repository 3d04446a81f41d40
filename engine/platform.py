"""What Meta says about templates, the business number and the account, applied and told.

Templates: a status change (PAUSED with Meta's note, REINSTATED, DISABLED, FLAGGED...), a
category change (a template Meta reclassifies to MARKETING is capped from then on), a
quality rating. A PAUSED template stops being sent and its rows wait until it is approved
again (Meta pauses for hours); one that can no longer be sent (DISABLED) pauses its
broadcasts for a person. The account: the messaging limit (``business_capability_update``,
and ``phone_number_quality_update`` for older accounts), the number's quality (RED or
FLAGGED trips the circuit breaker), account events.
Each is applied only if it is newer than what is stored (webhooks are delivered late and
out of order), and people are told through alerts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import peewee

from engine import alerts as texts
from engine.actor import META
from engine.breaker import Breaker
from engine.clock import Clock
from engine.lifecycle import Lifecycle
from engine.whatsapp.events import (
    AccountEvent,
    MessagingLimitEvent,
    NumberQualityEvent,
    SystemErrorEvent,
    TemplateCategoryEvent,
    TemplateQualityEvent,
    TemplateStatusEvent,
)
from storage import account
from storage.models import Broadcast, Template
from storage.states import BroadcastStatus, TemplateCategory, TemplateStatus

log = logging.getLogger("herald.platform")

# (kind, text, the broadcast concerned or None): see Notifier.alert
Alert = tuple[str, str, dict[str, Any] | None]

# Meta's template events and the status Herald keeps: a reinstated template is approved again;
# FLAGGED (low quality, disabled in 7 days unless it improves) leaves the status as it is.
_STATUS_OF_EVENT = {"REINSTATED": TemplateStatus.APPROVED, "UNARCHIVED": TemplateStatus.APPROVED}
_ACCOUNT_ALERTS = frozenset(
    {"ACCOUNT_RESTRICTION", "ACCOUNT_VIOLATION", "DISABLED_UPDATE", "ACCOUNT_DELETED", "ACCOUNT_OFFBOARDED"}
)
_BAD_QUALITY = frozenset({"FLAGGED", "DOWNGRADE", "RED"})


def _name(template: Template) -> str:
    return f"{template.name} ({template.language})"


def _where(b: Broadcast) -> dict[str, Any]:
    """The broadcast an alert is about, as the faces read it (where it reports)."""
    return {"id": b.id, "name": b.name, "notify": b.notify}


def _told(broadcasts: list[Broadcast], kind: str, text: Callable[[str], str]) -> list[Alert]:
    """One alert per broadcast, each where that broadcast reports (its Slack channel, say)."""
    return [(kind, text(b.name), _where(b)) for b in broadcasts]


class Platform:
    def __init__(
        self, database: peewee.Database, clock: Clock, lifecycle: Lifecycle, breaker: Breaker | None = None
    ) -> None:
        self.db = database
        self.clock = clock
        self.lifecycle = lifecycle
        self.breaker = breaker  # the number rated RED or FLAGGED trips it

    def apply(self, event: Any, alerts: list[Alert], touched: set[int]) -> bool:
        """Apply one platform event; False when ``event`` is not one of them."""
        handlers: dict[type, Callable[[Any, list[Alert], set[int]], None]] = {
            TemplateStatusEvent: self._template_status,
            TemplateCategoryEvent: self._template_category,
            TemplateQualityEvent: self._template_quality,
            MessagingLimitEvent: self._messaging_limit,
            NumberQualityEvent: self._number_quality,
            AccountEvent: self._account,
            SystemErrorEvent: self._system_error,
        }
        handler = handlers.get(type(event))
        if handler is None:
            return False
        handler(event, alerts, touched)
        return True

    # -- templates ---------------------------------------------------------------------

    def _template(self, name: str, language: str) -> Template | None:
        template = Template.get_or_none((Template.name == name) & (Template.language == language))
        return template or Template.get_or_none(Template.name == name)

    def _newer(self, template: Template, at: datetime | None) -> peewee.Expression:
        """The condition that keeps a late webhook from undoing a newer one."""
        same = Template.id == template.id
        if at is None:
            return same
        return same & ((Template.status_at.is_null()) | (Template.status_at <= at))

    def _template_status(self, event: TemplateStatusEvent, alerts: list[Alert], touched: set[int]) -> None:
        template = self._template(event.name, event.language)
        if template is None:
            return
        now = self.clock.now()
        if event.status == "FLAGGED":
            Template.update(quality="RED", other_info="FLAGGED", updated_at=now).where(
                Template.id == template.id
            ).execute()
            alerts.append(("template_flagged", _flagged(_name(template)), None))
            return
        status = _STATUS_OF_EVENT.get(event.status, event.status)
        if template.status == status:
            return
        changed = (
            Template.update(
                status=status,
                reason=event.reason,
                other_info=event.other_info,
                status_at=event.at or now,
                updated_at=now,
            )
            .where(self._newer(template, event.at))
            .execute()
        )
        if not changed:
            log.info("template %s: a late %s webhook was not applied", template.name, event.status)
            return
        sending = list(
            Broadcast.select().where(
                (Broadcast.template == template.id) & (Broadcast.status == BroadcastStatus.SENDING)
            )
        )
        touched |= {b.id for b in sending}
        detail = ""
        if event.other_info:
            detail = f" ({event.other_info.replace('_', ' ').lower()})"
        elif event.reason:
            detail = f" ({event.reason})"
        if status == TemplateStatus.APPROVED:  # its waiting rows are due again: they go on their own
            alerts += _told(
                sending, texts.TEMPLATE_APPROVED, lambda b: texts.template_back(_name(template), b)
            )
            if not sending:
                alerts.append((texts.TEMPLATE_APPROVED, texts.template_back_nowhere(_name(template)), None))
        elif status == TemplateStatus.PAUSED:  # for hours (Meta): its rows wait, nobody is paused
            alerts += _told(
                sending, texts.TEMPLATE_PAUSED, lambda b: texts.template_waits(template.name, detail, b)
            )
            if not sending:
                alerts.append(
                    (texts.TEMPLATE_PAUSED, texts.template_waits_nowhere(template.name, detail), None)
                )
        else:
            self._stop(template, status, detail, sending, alerts)

    def _stop(
        self, template: Template, status: str, detail: str, sending: list[Broadcast], alerts: list[Alert]
    ) -> None:
        """A template that can no longer be sent (DISABLED, REJECTED…): its broadcasts are paused
        for a person to decide."""
        why = f"template {template.name} is {status}{detail}"
        affected = [b for b in sending if self.lifecycle.move(b.id, "pause", by=META, status_reason=why)]
        kind = "template_disabled" if status == TemplateStatus.DISABLED else "template_paused"
        text = f"{why[0].upper()}{why[1:]}"
        if status == TemplateStatus.DISABLED:
            text += ". Meta will not send it again: choose another template, then resume or cancel"
        if not affected:
            alerts.append((kind, f"{text}: no broadcast was sending.", None))
        for b in affected:  # each where its broadcast reports (its Slack channel, say)
            alerts.append((kind, f"{text}: paused “{b.name}”.", _where(b)))

    def _template_category(
        self, event: TemplateCategoryEvent, alerts: list[Alert], touched: set[int]
    ) -> None:
        template = self._template(event.name, event.language)
        if template is None or template.category == event.category:
            return
        before = template.category
        Template.update(category=event.category, updated_at=self.clock.now()).where(
            Template.id == template.id
        ).execute()
        text = f"Meta reclassified template {_name(template)} from {before} to {event.category}."
        if event.category == TemplateCategory.MARKETING:
            text += " The frequency cap applies to it from now on: each contact gets it at most once a day."
        alerts.append(("template_category", text, None))

    def _template_quality(self, event: TemplateQualityEvent, alerts: list[Alert], touched: set[int]) -> None:
        template = self._template(event.name, event.language)
        if template is None or template.quality == event.quality:
            return
        Template.update(quality=event.quality, updated_at=self.clock.now()).where(
            Template.id == template.id
        ).execute()
        if event.quality in _BAD_QUALITY:
            alerts.append(
                (
                    "template_quality",
                    f"Template {_name(template)} is rated {event.quality} by Meta"
                    f" (was {event.previous or 'unrated'}): people are blocking or reporting it."
                    " Meta may pause it.",
                    None,
                )
            )

    # -- the account -------------------------------------------------------------------

    def _messaging_limit(self, event: MessagingLimitEvent, alerts: list[Alert], touched: set[int]) -> None:
        if account.put(self.db, account.MESSAGING_LIMIT, event.limit, event.at, self.clock.now()):
            shown = "unlimited" if event.limit is None else f"{event.limit:,} unique users a day"
            alerts.append(("messaging_limit", f"Meta set the business's messaging limit to {shown}.", None))

    def _number_quality(self, event: NumberQualityEvent, alerts: list[Alert], touched: set[int]) -> None:
        if not account.put(self.db, account.NUMBER_QUALITY, event.event, event.at, self.clock.now()):
            return
        if event.event in _BAD_QUALITY:
            alerts.append(
                ("number_quality", f"Meta reports the business number's quality as {event.event}.", None)
            )
            if self.breaker is not None:
                tripped = self.breaker.quality(event.event)
                touched |= {where["id"] for _, _, where in tripped if where}
                alerts.extend(tripped)
        elif event.event == "THROUGHPUT_UPGRADE":
            alerts.append(
                (
                    "number_quality",
                    "Meta raised the business number's throughput (up to 1,000 messages a second):"
                    " WHATSAPP_MPS can go up.",
                    None,
                )
            )

    def _account(self, event: AccountEvent, alerts: list[Alert], touched: set[int]) -> None:
        stored = {"event": event.event, **{k: v for k, v in event.detail.items() if k != "event"}}
        account.put(self.db, account.ACCOUNT, stored, event.at, self.clock.now())
        if event.event in _ACCOUNT_ALERTS:
            alerts.append(
                ("account", f"Meta reports an account event: {event.event.replace('_', ' ').lower()}.", None)
            )

    def _system_error(self, event: SystemErrorEvent, alerts: list[Alert], touched: set[int]) -> None:
        text = "; ".join(e.reason for e in event.errors) or "unspecified"
        alerts.append(("whatsapp_error", f"WhatsApp reported an account error: {text}.", None))


def _flagged(name: str) -> str:
    return (
        f"Template {name} is FLAGGED by Meta for low quality: it will be disabled in 7 days unless"
        " its quality improves. Sends continue."
    )
