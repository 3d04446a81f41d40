"""What one send batch knows about its rows, loaded at once, and the rules read from it.

``BatchContext.load`` reads everything a batch needs in a fixed number of
statements whatever its size (recipients with their last frequency-cap claim,
templates, broadcasts, sequence steps); ``screen``, ``still_goes`` and
``cap_wait`` are pure rules over what it loaded or read.

A rule that makes a row wait for a later time (quiet hours, say) is one more case
of ``screen`` returning ``Hold(reason, until)``: the row is then ``held`` with the
reason (``storage.states.HeldReason``) and the tick lets it go at ``until``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import peewee

from engine.cap import CAP_WINDOW, clears_at
from engine.whatsapp.parameters import ParameterPlan, compile_parameters
from storage import ledger
from storage.models import Broadcast, Template
from storage.states import (
    BroadcastStatus,
    ContactStatus,
    EnrollmentStatus,
    HeldReason,
    Reason,
    SequenceStatus,
    TemplateCategory,
    TemplateStatus,
)


@dataclass
class BatchContext:
    people: dict[int, ledger.Recipient]
    templates: dict[int, Template]
    broadcasts: dict[int, Broadcast]
    steps: dict[int, ledger.StepInfo] = field(default_factory=dict)  # by enrollment id
    plans: dict[tuple[int, int | None, str | None], ParameterPlan] = field(default_factory=dict)

    @classmethod
    def load(cls, database: peewee.Database, rows: Sequence[ledger.Claimed]) -> BatchContext:
        broadcast_ids = {r.broadcast_id for r in rows if r.broadcast_id}
        return cls(
            people=ledger.recipients(database, [r.contact_id for r in rows]),
            templates={
                t.id: t for t in Template.select().where(Template.id.in_({r.template_id for r in rows}))
            },
            broadcasts={b.id: b for b in Broadcast.select().where(Broadcast.id.in_(broadcast_ids))},
            steps=ledger.step_info(database, [r.enrollment_id for r in rows if r.enrollment_id]),
        )

    def broadcast(self, row: ledger.Claimed) -> Broadcast | None:
        return self.broadcasts.get(row.broadcast_id) if row.broadcast_id else None

    def step_params(self, row: ledger.Claimed) -> Any:
        """A sequence message step's parameter mapping, from the enrollment's version."""
        info = self.steps.get(row.enrollment_id or 0)
        if info is None:
            return None
        for step in info.definition.get("steps", []):
            if step.get("id") == row.step_id:
                return step.get("params")
        return None

    def plan(self, row: ledger.Claimed, template: Template) -> ParameterPlan:
        """The template's parameters checked against the row's mapping, once per batch."""
        key = (template.id, row.broadcast_id, row.step_id)
        if key not in self.plans:
            broadcast = self.broadcast(row)
            mapping = broadcast.params if broadcast is not None else self.step_params(row)
            self.plans[key] = compile_parameters(template.parameters, template.parameter_format, mapping)
        return self.plans[key]


@dataclass(frozen=True)
class Go:
    """The row may be sent."""


@dataclass(frozen=True)
class Hold:
    """Not now, untried. With a ``reason`` the row waits ``held`` until ``until``; without
    one it goes back to the queue (its broadcast or sequence is paused, or Meta paused its
    template: the queue keeps it until they are back). ``stop``: its template cannot be
    sent at all (disabled, rejected…): its broadcast is paused for a person to decide."""

    reason: HeldReason | None = None
    until: datetime | None = None
    stop: bool = False


@dataclass(frozen=True)
class Skip:
    reason: str


def screen(row: ledger.Claimed, ctx: BatchContext) -> Go | Hold | Skip:  # noqa: PLR0911 - a table
    """Whether a claimed row may be sent now, in the order the reasons take precedence."""
    broadcast = ctx.broadcast(row)
    person = ctx.people[row.contact_id]
    step = ctx.steps.get(row.enrollment_id or 0)
    if broadcast is not None and broadcast.status == BroadcastStatus.CANCELLED:
        return Skip(Reason.CANCELLED)
    if broadcast is not None and broadcast.status != BroadcastStatus.SENDING:
        return Hold()
    if step is not None and step.enrollment_status != EnrollmentStatus.ACTIVE:
        return Skip(step.exit_reason or Reason.EXITED)
    if step is not None and step.sequence_status != SequenceStatus.ACTIVE:
        return Hold()
    if person.status != ContactStatus.ACTIVE:
        return Skip(Reason.DELETED)
    if not person.opted_in:
        return Skip(Reason.OPTED_OUT)
    if person.phone is None and ctx.templates[row.template_id].category == TemplateCategory.AUTHENTICATION:
        # Meta takes a business-scoped user id for every message but authentication templates
        # (131062): a username user Herald knows by that id alone cannot be sent a code
        return Skip(Reason.NO_PHONE)
    status = ctx.templates[row.template_id].status
    if status == TemplateStatus.PAUSED:
        return Hold()  # Meta pauses for hours: the row waits in the queue for its reinstatement
    if status != TemplateStatus.APPROVED:
        return Hold(stop=True)
    return Go()


def still_goes(row: ledger.Claimed, broadcasts: dict[int, str], templates: dict[int, str]) -> bool:
    """Whether a row about to be sent may still go, by what was just read of its broadcast and
    template: a pause, a cancel, or Meta pausing the template stops it (``ledger.gate``)."""
    if row.broadcast_id is not None and broadcasts.get(row.broadcast_id) != BroadcastStatus.SENDING:
        return False
    return templates.get(row.template_id) == TemplateStatus.APPROVED


def cap_wait(person: ledger.Recipient, now: datetime) -> datetime:
    """When a sequence step held by the frequency cap tries again: when the contact's claim clears.

    ``last_marketing_at`` was loaded with the batch; a claim older than the window
    means another row or process claimed the contact since, that is, just now.
    """
    last = person.last_marketing_at
    if last is not None and clears_at(last) > now:
        return clears_at(last)
    return now + CAP_WINDOW
