"""Broadcasts: create, edit, preview, schedule, start, pause, resume, cancel, complete.

Every state change is one conditional, audited UPDATE (``engine.lifecycle``), and
starting a broadcast builds its whole send ledger in the same transaction:
either the broadcast is sending with one queued row per audience member, or
nothing happened. Sending itself belongs to the dispatcher and the send
pipeline; this module only decides what is due.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import peewee

from engine import alerts, views
from engine.actor import SYSTEM, Actor
from engine.audit import Audit
from engine.cap import CAP_WINDOW, is_capped_category
from engine.clock import Clock
from engine.contacts import contact_view
from engine.errors import Changed, Conflict, Invalid, NotFound
from engine.fingerprint import fingerprint
from engine.funnel import funnel_view, whole_hold
from engine.lifecycle import EDITABLE, Lifecycle, allowed_from
from engine.limit import UNKNOWN, Fit, Limits
from engine.notify import Notifier
from engine.phones import mask_identity
from engine.schedule import DRAFT, Schedule, ScheduleKind, describe, require_future, zone
from engine.suggest import closest
from engine.tags import normalize_tags
from engine.templates import Templates, ensure_sendable
from engine.whatsapp.parameters import compile_parameters
from storage import audience
from storage import contacts as contact_store
from storage.database import is_postgres
from storage.funnel import broadcast_counts
from storage.models import Broadcast, Contact, OutboundMessage, Tag, Template
from storage.sql import execute
from storage.states import PENDING, UNSENT, BroadcastStatus, Reason, RowState, TemplateStatus, sql_in

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
    sample: list[views.Contact]
    seconds: float  # estimated sending time at the configured rate
    limit: Fit | None = None  # how it fits the messaging limit

    def as_dict(self) -> views.Preview:
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
            "messaging_limit": limit_view(self.limit or Fit(None, UNKNOWN, 0, self.will_send, 0, None, None)),
        }


def limit_view(fit: Fit) -> views.LimitFit:
    return {
        "limit": fit.limit,
        "source": cast(views.LimitSource, fit.source),
        "used": fit.used,
        "fits_now": fit.fits_now,
        "later": fit.later,
        "later_from": _iso(fit.later_from),
        "later_until": _iso(fit.later_until),
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
        lifecycle: Lifecycle,
        timezone: str,
        mps: int,
        grace: timedelta,
        limits: Limits | None = None,
    ) -> None:
        self.db = database
        self.clock = clock
        self.templates = templates
        self.audit = audit
        self.lifecycle = lifecycle
        self.notifier = notifier
        self.timezone = timezone
        self.mps = mps
        self.grace = grace
        self.limits = limits or Limits(database, clock)

    # -- creating and editing ------------------------------------------------------

    def create(self, spec: BroadcastSpec, *, by: Actor) -> views.Broadcast:
        """Create a broadcast; "now" also starts it. Raises Invalid naming the bad input."""
        now = self.clock.now()
        template, tags, tz, params = self._checked(spec, now)
        scheduled_at = spec.schedule.at
        status = (
            BroadcastStatus.DRAFT
            if spec.hold or spec.schedule.kind is not ScheduleKind.AT
            else BroadcastStatus.SCHEDULED
        )
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

    def edit(self, broadcast_id: int, spec: BroadcastSpec, *, by: Actor) -> views.Broadcast:
        """Replace what a draft or scheduled broadcast will send, to whom and when."""
        now = self.clock.now()
        template, tags, tz, params = self._checked(spec, now)
        scheduled_at = spec.schedule.at
        status = (
            BroadcastStatus.DRAFT
            if spec.hold or spec.schedule.kind is ScheduleKind.DRAFT
            else BroadcastStatus.SCHEDULED
        )
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
                .where((Broadcast.id == broadcast_id) & Broadcast.status.in_(EDITABLE))
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

    def get(self, broadcast_id: int) -> views.Broadcast:
        return self.view(self._get(broadcast_id))

    def view(self, b: Broadcast) -> views.Broadcast:
        template = b.template
        return {
            "id": b.id,
            "name": b.name,
            "template": template.name,
            "language": template.language,
            "category": cast(views.Category, template.category),
            "tags": b.tags,
            "status": BroadcastStatus(b.status),
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
            "funnel": funnel_view(
                broadcast_counts(self.db, b.id), whole=whole_hold(b.status, b.held_reason, template.status)
            ),
        }

    def recent(self, *, limit: int = 20, status: str | None = None) -> list[views.Broadcast]:
        query = Broadcast.select().order_by(Broadcast.id.desc()).limit(limit)
        if status:
            query = query.where(Broadcast.status == status)
        return [self.view(b) for b in query]

    def find(
        self, text: str, *, since: datetime | None = None, until: datetime | None = None, limit: int = 10
    ) -> list[views.Broadcast]:
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

    def shown(self, broadcast_id: int, *, mask: bool = False) -> tuple[views.Broadcast, Preview, str]:
        """What a chat preview shows, from one read of the broadcast: its view, who would
        receive it now, and the fingerprint a Confirm of that preview carries back."""
        b = self._get(broadcast_id)
        return self.view(b), self.preview_for(b.template, b.tags, mask=mask), fingerprint(b)

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
                person["phone"] = mask_identity(person["phone"] or person["wa_user_id"])
        fit = self.limits.fit(will_send, lambda since: audience.reached(self.db, ids, since, cap_since), now)
        return Preview(
            total=eligible,
            matched=counts.matched,
            opted_out=counts.opted_out,
            deleted=counts.deleted,
            capped=counts.capped,
            will_send=will_send,
            sample=sample,
            seconds=fit.fits_now / self.mps if self.mps else 0.0,
            limit=fit,
        )

    # -- moving through the lifecycle ---------------------------------------------------

    def start(self, broadcast_id: int, *, by: Actor, seen: str | None = None) -> views.Broadcast:
        """Start sending now: the ledger is built in the same transaction as the move.

        Raises Conflict when the broadcast is not in a startable state,
        Changed when ``seen`` (the fingerprint of the preview a person
        confirmed) is not the broadcast's any more, and Invalid when its
        template is no longer approved.
        """
        return self._start(broadcast_id, by, "start", seen)

    def _start(
        self, broadcast_id: int, by: Actor, action: str, seen: str | None = None, *, paused_ok: bool = False
    ) -> views.Broadcast:
        now = self.clock.now()
        total = 0

        def build_ledger() -> dict[str, Any]:
            nonlocal total
            ids = list(contact_store.tag_ids(self.db, b.tags).values())
            total = audience.build_ledger(
                self.db, broadcast_id=b.id, template_id=b.template_id, tag_ids=ids, now=now
            )
            Broadcast.update(audience_total=total).where(Broadcast.id == b.id).execute()
            return {"recipients": total}

        with self.db.atomic():
            b = self._get(broadcast_id, lock=True)
            self._as_seen(b, action, seen)
            if not (paused_ok and b.template.status == TemplateStatus.PAUSED):
                ensure_sendable(b.template)
            self.lifecycle.make(b.id, action, by=by, then=build_ledger, started_at=now, status_reason=None)
        view = self.get(broadcast_id)
        self.notifier.broadcast_started(view)
        if total == 0:
            self.complete_if_done(broadcast_id)
            view = self.get(broadcast_id)
        return view

    def confirm(self, broadcast_id: int, *, by: Actor, seen: str | None = None) -> views.Broadcast:
        """What a chat Confirm button does: schedule a held draft that has a time, else start it.

        Only a draft can be confirmed, so a second click (or a second admin) gets
        Conflict and never starts what the first click scheduled. With ``seen``
        (the fingerprint of the preview being confirmed), a draft changed since
        that preview raises Changed and stays as it is.
        """
        b = self._get(broadcast_id)
        if b.status != BroadcastStatus.DRAFT:  # said plainly here; the conditional moves decide races
            raise Conflict(f"broadcast {broadcast_id} was already confirmed: it is {b.status}.")
        if b.scheduled_at is not None:
            return self._schedule(broadcast_id, by, "confirm_schedule", seen)
        return self._start(broadcast_id, by, "confirm_start", seen)

    def schedule(self, broadcast_id: int, *, by: Actor) -> views.Broadcast:
        return self._schedule(broadcast_id, by, "schedule")

    def _schedule(
        self, broadcast_id: int, by: Actor, action: str, seen: str | None = None
    ) -> views.Broadcast:
        now = self.clock.now()
        with self.db.atomic():
            b = self._get(broadcast_id, lock=True)
            self._as_seen(b, action, seen)
            if b.scheduled_at is None or b.scheduled_at <= now:
                raise Invalid(
                    f"broadcast {broadcast_id} has no time in the future to be scheduled for.",
                    field="schedule",
                    hint="Edit it with a new time, or send it now.",
                )
            self.lifecycle.make(b.id, action, by=by)
        return self.get(broadcast_id)

    def pause(self, broadcast_id: int, *, by: Actor, reason: str | None = None) -> views.Broadcast:
        with self.db.atomic():
            self.lifecycle.make(self._get(broadcast_id).id, "pause", by=by, status_reason=reason)
        return self.get(broadcast_id)

    def resume(self, broadcast_id: int, *, by: Actor) -> views.Broadcast:
        """Send again; a pause by a rule (the breaker's) is lifted too. Raises Conflict when it is
        not paused, Invalid when its template cannot be sent."""
        with self.db.atomic():
            b = self._get(broadcast_id)
            ensure_sendable(b.template)
            self.lifecycle.make(b.id, "resume", by=by, status_reason=None, held_reason=None)
        return self.get(broadcast_id)

    def cancel(self, broadcast_id: int, *, by: Actor) -> views.Broadcast:
        """Stop for good: recipients not yet handed to WhatsApp end as skipped (cancelled)."""
        now = self.clock.now()
        with self.db.atomic():
            b = self._get(broadcast_id)
            self.lifecycle.make(b.id, "cancel", by=by, completed_at=now)
            execute(
                self.db,
                f"UPDATE outbound_message SET state = '{RowState.SKIPPED}', skip_reason = ?, batch = NULL"
                f" WHERE broadcast_id = ? AND state IN {sql_in(UNSENT)}",
                [Reason.CANCELLED, b.id],
            )
        return self.get(broadcast_id)

    def discard(self, broadcast_id: int, *, by: Actor) -> views.Broadcast:
        """Drop a draft nobody confirmed (a preview's Cancel). Raises Conflict for anything else:
        a broadcast that is already scheduled or sending is stopped with ``cancel``, deliberately.
        """
        now = self.clock.now()
        with self.db.atomic():
            self.lifecycle.make(self._get(broadcast_id).id, "discard", by=by, completed_at=now)
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
        pending = OutboundMessage.select(OutboundMessage.id).where(
            (OutboundMessage.broadcast == broadcast_id) & OutboundMessage.state.in_(PENDING)
        )
        done = self.lifecycle.move(
            broadcast_id,
            "complete",
            by=SYSTEM,
            when=Broadcast.audience_total.is_null(False) & ~peewee.fn.EXISTS(pending),
            completed_at=self.clock.now(),
        )
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
            (Broadcast.status == BroadcastStatus.SCHEDULED) & (Broadcast.scheduled_at <= now)
        ):
            late = now - b.scheduled_at
            if late > self.grace:
                self._miss(b, late)
                continue
            try:
                # Meta pauses a template for hours: a broadcast due meanwhile starts and its sends
                # wait for the template (they go on by themselves); anything else waits for a person
                view = self._start(b.id, SYSTEM, "start", paused_ok=True)
                started.append(b.id)
            except Conflict:
                continue  # another scheduler started it first
            except Invalid as exc:
                self._hold(b, exc.render())
                continue
            if b.template.status == TemplateStatus.PAUSED:
                self.notifier.alert(
                    alerts.TEMPLATE_PAUSED, alerts.template_waits(b.template.name, "", b.name), view
                )
        return started

    def _miss(self, b: Broadcast, late: timedelta) -> None:
        reason = (
            f"missed: Herald was not running at {describe(b.scheduled_at, b.timezone)} and came back "
            f"{_duration(late)} late (the grace is {_duration(self.grace)}); nothing was sent"
        )
        if self.lifecycle.move(b.id, "miss", by=SYSTEM, status_reason=reason):
            self.notifier.alert("missed", f"Broadcast “{b.name}” was {reason}.", self.get(b.id))

    def _hold(self, b: Broadcast, why: str) -> None:
        """A due broadcast that cannot start (its template was paused): keep it, and say so."""
        now = self.clock.now()
        with self.db.atomic():
            if not self.lifecycle.move(b.id, "start", by=SYSTEM, started_at=now):
                return
            self.lifecycle.move(b.id, "pause", by=SYSTEM, status_reason=why)
        self.notifier.alert("blocked", f"Broadcast “{b.name}” could not start: {why}", self.get(b.id))

    # -- helpers ----------------------------------------------------------------------

    def _get(self, broadcast_id: int, *, lock: bool = False) -> Broadcast:
        """The broadcast's row; with ``lock``, held until the transaction ends (PostgreSQL: FOR
        UPDATE; SQLite's transactions already hold the database's write lock)."""
        query = Broadcast.select().where(Broadcast.id == broadcast_id)
        if lock and is_postgres(self.db):
            query = query.for_update()
        b = query.first()
        if b is None:
            raise NotFound(f"no broadcast with id {broadcast_id}.", field="id")
        return b

    def _as_seen(self, b: Broadcast, action: str, seen: str | None) -> None:
        """Raise Changed when a Confirm's ``seen`` fingerprint is not ``b``'s any more (read under
        the row's lock, so an edit cannot land between this check and the move)."""
        if seen is None or b.status not in allowed_from(action) or seen == fingerprint(b):
            return
        raise Changed(
            f"broadcast {b.id} changed after the preview that was confirmed; nothing was sent.",
            hint="Check its new preview and confirm that.",
        )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"
