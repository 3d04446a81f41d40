"""Broadcasts: create, edit, preview, schedule, start, pause, resume, cancel, complete.

Every state change is one conditional UPDATE (see ``engine.lifecycle``), and
starting a broadcast builds its whole send ledger in the same transaction:
either the broadcast is sending with one queued row per audience member, or
nothing happened. Sending itself belongs to the dispatcher and the send
pipeline; this module only decides what is due.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import peewee

from engine import lifecycle as lc
from engine.actor import SYSTEM, Actor
from engine.audit import Audit
from engine.cap import CAP_WINDOW, is_capped_category
from engine.clock import Clock
from engine.contacts import contact_view
from engine.errors import Conflict, Invalid, NotFound
from engine.funnel import funnel_view
from engine.notify import Notifier
from engine.phones import mask_phone
from engine.schedule import DRAFT, Schedule, ScheduleKind, describe, require_future, zone
from engine.suggest import closest
from engine.tags import normalize_tags
from engine.templates import Templates, ensure_sendable
from engine.whatsapp.parameters import compile_parameters
from storage import audience
from storage import contacts as contact_store
from storage.funnel import broadcast_counts
from storage.models import Broadcast, Contact, Tag, Template
from storage.sql import execute

SAMPLE_SIZE = 10


@dataclass(frozen=True)
class BroadcastSpec:
    """What a person asks for. ``schedule`` says when (its zone None: Herald's ``TIMEZONE``)."""

    template: str
    tags: Sequence[str]
    schedule: Schedule = DRAFT
    name: str | None = None
    language: str | None = None
    params: list[str] | dict[str, str] | None = None
    notify: dict[str, Any] = field(default_factory=dict)
    hold: bool = False  # keep as a draft even with a time: the chat faces confirm first


@dataclass(frozen=True)
class Preview:
    total: int
    matched: int
    opted_out: int
    deleted: int
    capped: int
    will_send: int
    sample: list[dict[str, Any]]
    seconds: float  # estimated sending time at the configured rate

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "capped": self.capped,
            "will_send": self.will_send,
            "sample": self.sample,
            "waterfall": {
                "matched": self.matched,
                "opted_out": self.opted_out,
                "deleted": self.deleted,
                "eligible": self.total,
                "frequency_capped": self.capped,
                "will_send": self.will_send,
            },
            "estimated_seconds": round(self.seconds, 1),
        }


class Broadcasts:
    def __init__(
        self,
        database: peewee.Database,
        clock: Clock,
        templates: Templates,
        audit: Audit,
        notifier: Notifier,
        *,
        timezone: str,
        mps: int,
        grace: timedelta,
    ) -> None:
        self.db = database
        self.clock = clock
        self.templates = templates
        self.audit = audit
        self.notifier = notifier
        self.timezone = timezone
        self.mps = mps
        self.grace = grace

    # -- creating and editing ------------------------------------------------------

    def create(self, spec: BroadcastSpec, *, by: Actor) -> dict[str, Any]:
        """Create a broadcast; "now" also starts it. Raises Invalid naming the bad input."""
        now = self.clock.now()
        template, tags, tz, params = self._checked(spec, now)
        scheduled_at = spec.schedule.at
        status = lc.DRAFT if spec.hold or spec.schedule.kind is not ScheduleKind.AT else lc.SCHEDULED
        with self.db.atomic():
            broadcast = Broadcast.create(
                name=spec.name or f"{template.name} → {', '.join(tags)}",
                template=template,
                tags=tags,
                status=status,
                scheduled_at=scheduled_at,
                timezone=tz,
                created_by=by.id,
                face=by.face,
                notify=spec.notify,
                params=params,
                created_at=now,
                updated_at=now,
            )
            self.audit.record(
                face=by.face,
                actor=by.id,
                action="broadcast.create",
                target=str(broadcast.id),
                status=status,
            )
        if spec.schedule.kind is ScheduleKind.NOW and not spec.hold:
            return self.start(broadcast.id, by=by)
        return self.get(broadcast.id)

    def edit(self, broadcast_id: int, spec: BroadcastSpec, *, by: Actor) -> dict[str, Any]:
        """Replace what a draft or scheduled broadcast will send, to whom and when."""
        now = self.clock.now()
        template, tags, tz, params = self._checked(spec, now)
        scheduled_at = spec.schedule.at
        status = lc.DRAFT if spec.hold or spec.schedule.kind is ScheduleKind.DRAFT else lc.SCHEDULED
        with self.db.atomic():
            current = self._get(broadcast_id)
            changed = (
                Broadcast.update(
                    name=spec.name or current.name,
                    template=template,
                    tags=tags,
                    timezone=tz,
                    scheduled_at=scheduled_at,
                    params=params,
                    status=status,
                    updated_at=now,
                )
                .where((Broadcast.id == broadcast_id) & Broadcast.status.in_(lc.EDITABLE))
                .execute()
            )
            if not changed:
                raise Conflict(
                    f"broadcast {broadcast_id} cannot be edited: it is {current.status}.",
                    hint="Only draft and scheduled broadcasts can be edited.",
                )
            self.audit.record(face=by.face, actor=by.id, action="broadcast.edit", target=str(broadcast_id))
        if spec.schedule.kind is ScheduleKind.NOW and not spec.hold:
            return self.start(broadcast_id, by=by)
        return self.get(broadcast_id)

    def _checked(
        self, spec: BroadcastSpec, now: datetime
    ) -> tuple[Template, list[str], str, list[str] | dict[str, str] | None]:
        tz = spec.schedule.timezone or self.timezone
        zone(tz)
        template = self.templates.sendable(spec.template, spec.language)
        tags = normalize_tags(spec.tags)
        if not tags:
            raise Invalid(
                "a broadcast needs at least one tag.",
                field="tags",
                hint="Target contacts with tags, like tags:vip.",
            )
        known = contact_store.tag_ids(self.db, tags)
        for tag in tags:
            if tag not in known:
                guess = closest(tag, [t.name for t in Tag.select(Tag.name)])
                raise Invalid(
                    f"no contact has the tag {tag!r}.",
                    field="tags",
                    hint=f"Did you mean {guess!r}?" if guess else "Tag some contacts first.",
                )
        compile_parameters(template.parameters, template.parameter_format, spec.params)
        require_future(spec.schedule, now)
        return template, tags, tz, spec.params

    # -- reading -------------------------------------------------------------------

    def get(self, broadcast_id: int) -> dict[str, Any]:
        return self.view(self._get(broadcast_id))

    def view(self, b: Broadcast) -> dict[str, Any]:
        template = b.template
        return {
            "id": b.id,
            "name": b.name,
            "template": template.name,
            "language": template.language,
            "category": template.category,
            "tags": b.tags,
            "status": b.status,
            "status_reason": b.status_reason,
            "scheduled_at": b.scheduled_at.isoformat().replace("+00:00", "Z") if b.scheduled_at else None,
            "timezone": b.timezone,
            "scheduled_for": describe(b.scheduled_at, b.timezone) if b.scheduled_at else None,
            "created_by": b.created_by,
            "face": b.face,
            "notify": b.notify,
            "audience_total": b.audience_total,
            "started_at": _iso(b.started_at),
            "completed_at": _iso(b.completed_at),
            "funnel": funnel_view(broadcast_counts(self.db, b.id)),
        }

    def recent(self, *, limit: int = 20, status: str | None = None) -> list[dict[str, Any]]:
        query = Broadcast.select().order_by(Broadcast.id.desc()).limit(limit)
        if status:
            query = query.where(Broadcast.status == status)
        return [self.view(b) for b in query]

    def find(
        self, text: str, *, since: datetime | None = None, until: datetime | None = None, limit: int = 10
    ) -> list[dict[str, Any]]:
        """Broadcasts whose template or name is ``text`` (any case), newest first; with a window,
        only those started within ``[since, until)``.
        """
        wanted = text.strip().lower()
        query = (
            Broadcast.select()
            .join(Template)
            .where((peewee.fn.LOWER(Template.name) == wanted) | (peewee.fn.LOWER(Broadcast.name) == wanted))
            .order_by(Broadcast.id.desc())
            .limit(limit)
        )
        if since is not None:
            query = query.where(Broadcast.started_at >= since)
        if until is not None:
            query = query.where(Broadcast.started_at < until)
        return [self.view(b) for b in query]

    def preview(self, broadcast_id: int, *, mask: bool = False) -> Preview:
        """Who would receive it now: the exclusion waterfall, the first ten, the time it takes."""
        b = self._get(broadcast_id)
        return self.preview_for(b.template, b.tags, mask=mask)

    def preview_for(self, template: Template, tags: Sequence[str], *, mask: bool = False) -> Preview:
        now = self.clock.now()
        ids = list(contact_store.tag_ids(self.db, list(tags)).values())
        cap_since = now - CAP_WINDOW if is_capped_category(template.category) else None
        counts = audience.waterfall(self.db, ids, cap_since)
        eligible = counts.matched - counts.opted_out - counts.deleted
        will_send = eligible - counts.capped
        first = audience.first_eligible(self.db, ids, SAMPLE_SIZE)
        tags_by = contact_store.tags_for(self.db, first)
        people = {c.id: c for c in Contact.select().where(Contact.id.in_(first))} if first else {}
        sample = [contact_view(people[i], tags_by.get(i, [])) for i in first]
        if mask:
            for person in sample:
                person["phone"] = mask_phone(person["phone"])
        return Preview(
            total=eligible,
            matched=counts.matched,
            opted_out=counts.opted_out,
            deleted=counts.deleted,
            capped=counts.capped,
            will_send=will_send,
            sample=sample,
            seconds=will_send / self.mps if self.mps else 0.0,
        )

    # -- moving through the lifecycle ---------------------------------------------------

    def start(self, broadcast_id: int, *, by: Actor) -> dict[str, Any]:
        """Start sending now: the ledger is built in the same transaction as the move.

        Raises Conflict when the broadcast is not in a startable state, and
        Invalid when its template is no longer approved.
        """
        return self._start(broadcast_id, by, "start")

    def _start(self, broadcast_id: int, by: Actor, action: str) -> dict[str, Any]:
        now = self.clock.now()
        with self.db.atomic():
            b = self._get(broadcast_id)
            ensure_sendable(b.template)
            self._move(b, action, now, started_at=now, status_reason=None)
            ids = list(contact_store.tag_ids(self.db, b.tags).values())
            total = audience.build_ledger(
                self.db, broadcast_id=b.id, template_id=b.template_id, tag_ids=ids, now=now
            )
            Broadcast.update(audience_total=total).where(Broadcast.id == b.id).execute()
            self.audit.record(
                face=by.face,
                actor=by.id,
                action="broadcast.start",
                target=str(b.id),
                recipients=total,
            )
        view = self.get(broadcast_id)
        self.notifier.broadcast_started(view)
        if total == 0:
            self.complete_if_done(broadcast_id)
            view = self.get(broadcast_id)
        return view

    def confirm(self, broadcast_id: int, *, by: Actor) -> dict[str, Any]:
        """What a chat Confirm button does: schedule a held draft that has a time, else start it.

        Only a draft can be confirmed, so a second click (or a second admin) gets
        Conflict and never starts what the first click scheduled.
        """
        b = self._get(broadcast_id)
        if b.status != lc.DRAFT:  # said plainly here; the conditional moves below decide races
            raise Conflict(f"broadcast {broadcast_id} was already confirmed: it is {b.status}.")
        if b.scheduled_at is not None:
            return self._schedule(broadcast_id, by, "confirm_schedule")
        return self._start(broadcast_id, by, "confirm_start")

    def schedule(self, broadcast_id: int, *, by: Actor) -> dict[str, Any]:
        return self._schedule(broadcast_id, by, "schedule")

    def _schedule(self, broadcast_id: int, by: Actor, action: str) -> dict[str, Any]:
        now = self.clock.now()
        with self.db.atomic():
            b = self._get(broadcast_id)
            if b.scheduled_at is None or b.scheduled_at <= now:
                raise Invalid(
                    f"broadcast {broadcast_id} has no time in the future to be scheduled for.",
                    field="schedule",
                    hint="Edit it with a new time, or send it now.",
                )
            self._move(b, action, now)
            self.audit.record(face=by.face, actor=by.id, action="broadcast.schedule", target=str(b.id))
        return self.get(broadcast_id)

    def pause(self, broadcast_id: int, *, by: Actor, reason: str | None = None) -> dict[str, Any]:
        now = self.clock.now()
        with self.db.atomic():
            b = self._get(broadcast_id)
            self._move(b, "pause", now, status_reason=reason)
            self.audit.record(
                face=by.face, actor=by.id, action="broadcast.pause", target=str(b.id), reason=reason
            )
        return self.get(broadcast_id)

    def resume(self, broadcast_id: int, *, by: Actor) -> dict[str, Any]:
        now = self.clock.now()
        with self.db.atomic():
            b = self._get(broadcast_id)
            ensure_sendable(b.template)
            self._move(b, "resume", now, status_reason=None)
            self.audit.record(face=by.face, actor=by.id, action="broadcast.resume", target=str(b.id))
        return self.get(broadcast_id)

    def cancel(self, broadcast_id: int, *, by: Actor) -> dict[str, Any]:
        """Stop for good: recipients not yet handed to WhatsApp end as skipped (cancelled)."""
        now = self.clock.now()
        with self.db.atomic():
            b = self._get(broadcast_id)
            self._move(b, "cancel", now, completed_at=now)
            execute(
                self.db,
                "UPDATE outbound_message SET state = 'skipped', skip_reason = 'cancelled', batch = NULL"
                " WHERE broadcast_id = ? AND state IN ('queued', 'dispatched')",
                [b.id],
            )
            self.audit.record(face=by.face, actor=by.id, action="broadcast.cancel", target=str(b.id))
        return self.get(broadcast_id)

    def discard(self, broadcast_id: int, *, by: Actor) -> dict[str, Any]:
        """Drop a draft nobody confirmed (a preview's Cancel). Raises Conflict for anything else:
        a broadcast that is already scheduled or sending is stopped with ``cancel``, deliberately.
        """
        now = self.clock.now()
        with self.db.atomic():
            b = self._get(broadcast_id)
            self._move(b, "discard", now, completed_at=now)
            self.audit.record(face=by.face, actor=by.id, action="broadcast.discard", target=str(b.id))
        return self.get(broadcast_id)

    def remember(self, broadcast_id: int, face: str, note: dict[str, Any]) -> dict[str, Any]:
        """Merge ``note`` into what ``face`` keeps in the broadcast's ``notify`` (where its live
        funnel message is, for example). Returns the whole ``notify``.
        """
        with self.db.atomic():
            b = self._get(broadcast_id)
            notify = dict(b.notify or {})
            notify[face] = {**(notify.get(face) or {}), **note}
            Broadcast.update(notify=notify).where(Broadcast.id == broadcast_id).execute()
        return notify

    def complete_if_done(self, broadcast_id: int) -> bool:
        """Mark a sending broadcast completed once no recipient is pending; notify once."""
        now = self.clock.now()
        with self.db.atomic():
            cursor = execute(
                self.db,
                "UPDATE broadcast SET status = 'completed', completed_at = ?, updated_at = ?"
                " WHERE id = ? AND status = 'sending' AND audience_total IS NOT NULL AND NOT EXISTS"
                " (SELECT 1 FROM outbound_message m WHERE m.broadcast_id = ?"
                "  AND m.state IN ('queued', 'dispatched', 'sending'))",
                [_db(now), _db(now), broadcast_id, broadcast_id],
            )
            done = bool(cursor.rowcount)
        if done:
            self.notifier.broadcast_completed(self.get(broadcast_id))
        return done

    def due(self) -> list[int]:
        """Start scheduled broadcasts whose time has come (within the grace), mark older ones missed.

        Returns the ids started. Safe to run in several schedulers at once.
        """
        now = self.clock.now()
        started: list[int] = []
        for b in Broadcast.select().where(
            (Broadcast.status == lc.SCHEDULED) & (Broadcast.scheduled_at <= now)
        ):
            late = now - b.scheduled_at
            if late > self.grace:
                self._miss(b, late)
                continue
            try:
                self.start(b.id, by=SYSTEM)
                started.append(b.id)
            except Conflict:
                continue  # another scheduler started it first
            except Invalid as exc:
                self._hold(b, exc.render())
        return started

    def _miss(self, b: Broadcast, late: timedelta) -> None:
        now = self.clock.now()
        reason = (
            f"missed: Herald was not running at {describe(b.scheduled_at, b.timezone)} and came back "
            f"{_duration(late)} late (the grace is {_duration(self.grace)}); nothing was sent"
        )
        with self.db.atomic():
            try:
                self._move(b, "miss", now, status_reason=reason)
            except Conflict:
                return
        self.notifier.alert("missed", f"Broadcast “{b.name}” was {reason}.", self.get(b.id))

    def _hold(self, b: Broadcast, why: str) -> None:
        """A due broadcast that cannot start (its template was paused): keep it, and say so."""
        now = self.clock.now()
        with self.db.atomic():
            try:
                self._move(b, "start", now, started_at=now)
                self._move(self._get(b.id), "pause", now, status_reason=why)
            except Conflict:
                return
        self.notifier.alert("blocked", f"Broadcast “{b.name}” could not start: {why}", self.get(b.id))

    # -- helpers ----------------------------------------------------------------------

    def _get(self, broadcast_id: int) -> Broadcast:
        b = Broadcast.get_or_none(Broadcast.id == broadcast_id)
        if b is None:
            raise NotFound(f"no broadcast with id {broadcast_id}.", field="id")
        return b

    def _move(self, b: Broadcast, action: str, now: datetime, **fields: Any) -> None:
        changed = (
            Broadcast.update(status=lc.target(action), updated_at=now, **fields)
            .where((Broadcast.id == b.id) & Broadcast.status.in_(lc.allowed_from(action)))
            .execute()
        )
        if not changed:
            current = Broadcast.get_by_id(b.id).status
            raise Conflict(f"broadcast {b.id} cannot {action}: {lc.refusal(action, current)}.")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _db(moment: datetime) -> datetime:
    from storage.fields import to_db_time  # noqa: PLC0415

    return to_db_time(moment)


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"
