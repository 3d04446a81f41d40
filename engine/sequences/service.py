"""Sequences: versioned definitions, the draft → active ⇄ paused → archived lifecycle, enrollment.

Editing a sequence that has been activated publishes a new version; contacts
already enrolled finish on the version they started with. Enrollment happens
at most once per contact per sequence on every path (by hand, through the
API, or on a trigger), enforced by a unique key in the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import peewee

from engine import views
from engine.actor import Actor
from engine.audit import Audit
from engine.clock import Clock
from engine.errors import Conflict, Invalid, NotFound
from engine.events import ContactCreated, ContactDeleted, ContactOptedOut, EventBus, TagAdded
from engine.phones import is_user_id, mask_identity, normalize_phone
from engine.sequences.definition import Definition, check_templates, read_definition
from engine.suggest import closest
from engine.templates import Templates
from storage import sequences as store
from storage.models import Contact, Enrollment, Sequence, SequenceVersion
from storage.states import ContactStatus, EnrollmentStatus, Reason, SequenceStatus

DRAFT, ACTIVE, PAUSED, ARCHIVED = (
    SequenceStatus.DRAFT,
    SequenceStatus.ACTIVE,
    SequenceStatus.PAUSED,
    SequenceStatus.ARCHIVED,
)
MOVES: dict[str, tuple[frozenset[SequenceStatus], SequenceStatus]] = {
    "activate": (frozenset({DRAFT, PAUSED}), ACTIVE),
    "pause": (frozenset({ACTIVE}), PAUSED),
    "archive": (frozenset({DRAFT, ACTIVE, PAUSED}), ARCHIVED),
}
ENROLLABLE = frozenset({ACTIVE, PAUSED})


class Sequences:
    def __init__(self, database: peewee.Database, clock: Clock, templates: Templates, audit: Audit) -> None:
        self.db = database
        self.clock = clock
        self.templates = templates
        self.audit = audit

    def subscribe(self, bus: EventBus) -> None:
        """Enroll on triggers, and end enrollments of contacts who opt out or are deleted."""
        bus.subscribe(TagAdded, self._on_tag_added)
        bus.subscribe(ContactCreated, self._on_contact_created)
        bus.subscribe(ContactOptedOut, self._on_opted_out)
        bus.subscribe(ContactDeleted, self._on_deleted)

    # -- definitions and versions ------------------------------------------------------

    def create(self, document: Mapping[str, Any], *, by: Actor) -> views.Sequence:
        """A new sequence, as a draft at version 1. Raises Invalid naming the problem."""
        definition = self._checked(document)
        now = self.clock.now()
        with self.db.atomic():
            if Sequence.get_or_none(Sequence.name == definition.name) is not None:
                raise Conflict(
                    f"a sequence called {definition.name!r} exists already.",
                    field="name",
                    hint="Edit it (a new version), or pick another name.",
                )
            sequence = Sequence.create(
                name=definition.name,
                status=DRAFT,
                version=1,
                trigger_type=definition.trigger.type,
                trigger_tag=(definition.trigger.tag or "").strip().lower() or None,
                created_at=now,
                updated_at=now,
            )
            SequenceVersion.create(
                sequence=sequence, version=1, definition=definition.as_json(), created_at=now
            )
            self.audit.record(face=by.face, actor=by.id, action="sequence.create", target=definition.name)
        return self.get(sequence.id)

    def edit(self, ref: str | int, document: Mapping[str, Any], *, by: Actor) -> views.Sequence:
        """Change a sequence. A draft changes in place; otherwise a new version is published
        and enrolled contacts continue on theirs (the answer says how many)."""
        definition = self._checked(document)
        now = self.clock.now()
        with self.db.atomic():
            sequence = self._get(ref)
            if sequence.status == ARCHIVED:
                raise Conflict(f"sequence {sequence.name!r} is archived and cannot change.")
            if definition.name != sequence.name:
                raise Invalid(
                    f"the definition is called {definition.name!r}, not {sequence.name!r}.",
                    field="name",
                    hint="A sequence keeps its name; create a new one to rename it.",
                )
            trigger = {
                "trigger_type": definition.trigger.type,
                "trigger_tag": (definition.trigger.tag or "").strip().lower() or None,
                "updated_at": now,
            }
            if sequence.status == DRAFT:
                SequenceVersion.update(definition=definition.as_json()).where(
                    (SequenceVersion.sequence == sequence.id) & (SequenceVersion.version == sequence.version)
                ).execute()
                Sequence.update(**trigger).where(Sequence.id == sequence.id).execute()
                continuing = 0
            else:
                version = sequence.version + 1
                SequenceVersion.create(
                    sequence=sequence.id, version=version, definition=definition.as_json(), created_at=now
                )
                Sequence.update(version=version, **trigger).where(Sequence.id == sequence.id).execute()
                continuing = (
                    Enrollment.select()
                    .where(
                        (Enrollment.sequence == sequence.id) & (Enrollment.status == EnrollmentStatus.ACTIVE)
                    )
                    .count()
                )
            self.audit.record(face=by.face, actor=by.id, action="sequence.edit", target=sequence.name)
        view = self.get(sequence.id)
        if sequence.status != DRAFT:
            view["note"] = (
                f"Published version {view['version']}; {continuing} contact(s) continue on the version "
                "they started with."
            )
        return view

    def _checked(self, document: Mapping[str, Any]) -> Definition:
        definition = read_definition(dict(document))
        check_templates(definition, self.templates.sendable)
        return definition

    # -- lifecycle ---------------------------------------------------------------------

    def activate(self, ref: str | int, *, by: Actor) -> views.Sequence:
        return self._move(ref, "activate", by)

    def pause(self, ref: str | int, *, by: Actor) -> views.Sequence:
        """Hold every enrollment where it stands; nothing is sent until it is activated again."""
        return self._move(ref, "pause", by)

    def archive(self, ref: str | int, *, by: Actor) -> views.Sequence:
        """Retire the sequence; enrollments still running end with reason "archived"."""
        return self._move(ref, "archive", by)

    def _move(self, ref: str | int, action: str, by: Actor) -> views.Sequence:
        allowed, target = MOVES[action]
        now = self.clock.now()
        with self.db.atomic():
            sequence = self._get(ref)
            if action == "activate":
                self._check_current_templates(sequence)
            changed = (
                Sequence.update(status=target, updated_at=now)
                .where((Sequence.id == sequence.id) & Sequence.status.in_(allowed))
                .execute()
            )
            if not changed:
                raise Conflict(
                    f"sequence {sequence.name!r} cannot {action}: it is {sequence.status}.",
                    hint=f"{action} works when it is {' or '.join(sorted(allowed))}.",
                )
            if target == ARCHIVED:
                store.exit_sequence(self.db, sequence.id, Reason.ARCHIVED, now)
            self.audit.record(face=by.face, actor=by.id, action=f"sequence.{action}", target=sequence.name)
        return self.get(sequence.id)

    def _check_current_templates(self, sequence: Sequence) -> None:
        definition = read_definition(self._version(sequence.id, sequence.version).definition)
        check_templates(definition, self.templates.sendable)

    # -- enrollment --------------------------------------------------------------------

    def enroll(
        self, sequence_ref: str | int, contact_ref: str | int, *, by: Actor, source: str = "manual"
    ) -> views.Enrollment:
        """Enroll one contact. Raises Conflict when already enrolled or not enrollable."""
        with self.db.atomic():
            sequence = self._get(sequence_ref)
            contact = self._contact(contact_ref)
            if sequence.status not in ENROLLABLE:
                raise Conflict(
                    f"sequence {sequence.name!r} is {sequence.status}; contacts join active sequences.",
                    hint=f"Activate it first: sequence activate {sequence.name}.",
                )
            if contact.status != ContactStatus.ACTIVE or not contact.opted_in:
                why = "was deleted" if contact.status != ContactStatus.ACTIVE else "opted out"
                raise Conflict(f"{_who(contact)} {why}; only opted-in contacts are enrolled.")
            existing = Enrollment.get_or_none(
                (Enrollment.sequence == sequence.id) & (Enrollment.contact == contact.id)
            )
            if existing is not None:
                raise Conflict(self._already(sequence, contact, existing))
            rows = self._enroll(sequence, [contact.id], source)
            if not rows:  # a concurrent enrollment won the unique key
                existing = Enrollment.get(
                    (Enrollment.sequence == sequence.id) & (Enrollment.contact == contact.id)
                )
                raise Conflict(self._already(sequence, contact, existing))
            self.audit.record(
                face=by.face,
                actor=by.id,
                action="sequence.enroll",
                target=sequence.name,
                contact=_who(contact),
            )
            return self.enrollment_view(Enrollment.get_by_id(rows[0][0]))

    def _already(self, sequence: Sequence, contact: Contact, existing: Enrollment) -> str:
        return (
            f"{_who(contact)} is already enrolled in {sequence.name!r} "
            f"(since {existing.enrolled_at:%d %b %Y}, {existing.status}); "
            "a contact joins a sequence at most once."
        )

    def _enroll(self, sequence: Sequence, contact_ids: list[int], source: str) -> list[tuple[int, int]]:
        version = self._version(sequence.id, sequence.version)
        first = version.definition["steps"][0]["id"]
        return store.enroll(
            self.db,
            sequence_id=sequence.id,
            version_id=version.id,
            first_step=first,
            contact_ids=contact_ids,
            source=source,
            now=self.clock.now(),
        )

    def _on_tag_added(self, event: TagAdded) -> None:
        for sequence in Sequence.select().where(
            (Sequence.status == ACTIVE)
            & (Sequence.trigger_type == "tag_added")
            & (Sequence.trigger_tag == event.tag)
        ):
            self._enroll(sequence, list(event.contact_ids), "trigger")

    def _on_opted_out(self, event: ContactOptedOut) -> None:
        store.exit_contacts(self.db, event.contact_ids, Reason.OPTED_OUT, event.at)

    def _on_deleted(self, event: ContactDeleted) -> None:
        store.exit_contacts(self.db, event.contact_ids, Reason.DELETED, event.at)

    def _on_contact_created(self, event: ContactCreated) -> None:
        for sequence in Sequence.select().where(
            (Sequence.status == ACTIVE) & (Sequence.trigger_type == "contact_created")
        ):
            self._enroll(sequence, list(event.contact_ids), "trigger")

    # -- reading -----------------------------------------------------------------------

    def all(self) -> list[views.SequenceSummary]:
        return [self._summary(s) for s in Sequence.select().order_by(Sequence.name)]

    def names(self) -> list[str]:
        return [s.name for s in Sequence.select(Sequence.name).order_by(Sequence.name)]

    def get(self, ref: str | int) -> views.Sequence:
        """Definition, enrollment counts per version, and each message step's funnel."""
        sequence = self._get(ref)
        versions: dict[int, views.VersionStats] = {}

        def stats(version: int) -> views.VersionStats:
            return versions.setdefault(
                version, {"version": version, "active": 0, "completed": 0, "exited": {}}
            )

        exits: dict[str, int] = {}
        for version, status, reason, n in store.enrollment_counts(self.db, sequence.id):
            entry = stats(version)
            if status == EnrollmentStatus.EXITED:
                entry["exited"][reason or "unknown"] = entry["exited"].get(reason or "unknown", 0) + n
                exits[reason or "unknown"] = exits.get(reason or "unknown", 0) + n
            elif status == EnrollmentStatus.ACTIVE:
                entry["active"] += n
            else:
                entry["completed"] += n
        for version, step, total, sent, delivered, read, failed, replied in store.step_counts(
            self.db, sequence.id
        ):
            stats(version).setdefault("steps", {})[step] = {
                "total": total,
                "sent": sent,
                "delivered": delivered,
                "read": read,
                "failed": failed,
                "replied": replied,
            }
        active = sum(e["active"] for e in versions.values())
        completed = sum(e["completed"] for e in versions.values())
        return {
            **self._summary(sequence),
            "definition": self._version(sequence.id, sequence.version).definition,
            "versions": [versions[v] for v in sorted(versions)],
            "enrollments": {
                "enrolled": active + completed + sum(exits.values()),
                "active": active,
                "completed": completed,
                "exited": exits,
            },
        }

    def _summary(self, sequence: Sequence) -> views.SequenceSummary:
        trigger: views.SequenceTrigger = {"type": cast(views.TriggerType, sequence.trigger_type)}
        if sequence.trigger_tag:
            trigger["tag"] = sequence.trigger_tag
        return {
            "id": sequence.id,
            "name": sequence.name,
            "status": SequenceStatus(sequence.status),
            "version": sequence.version,
            "trigger": trigger,
        }

    def enrollments_for(self, contact_ref: str | int) -> list[views.Enrollment]:
        contact = self._contact(contact_ref)
        return [
            self.enrollment_view(e)
            for e in Enrollment.select().where(Enrollment.contact == contact.id).order_by(Enrollment.id)
        ]

    def enrollment_view(self, e: Enrollment) -> views.Enrollment:
        """The contract shape of an enrollment."""
        return {
            "id": e.id,
            "sequence": e.sequence.name,
            "contact": e.contact_id,
            "version": e.version.version,
            "status": EnrollmentStatus(e.status),
            "current_step": e.current_step,
            "exit_reason": e.exit_reason,
            "enrolled_at": e.enrolled_at.isoformat().replace("+00:00", "Z"),
        }

    def _get(self, ref: str | int) -> Sequence:
        text = str(ref).strip()
        found = (
            Sequence.get_or_none(Sequence.id == int(text))
            if _is_id(text)
            else Sequence.get_or_none(Sequence.name == text)
        )
        if found is None:
            guess = closest(text, self.names())
            raise NotFound(
                f"no sequence {text!r}.", field="sequence", hint=f"Did you mean {guess!r}?" if guess else None
            )
        return found

    def _version(self, sequence_id: int, version: int) -> SequenceVersion:
        return SequenceVersion.get(
            (SequenceVersion.sequence == sequence_id) & (SequenceVersion.version == version)
        )

    def _contact(self, ref: str | int) -> Contact:
        """A number is an id; so is text of up to six digits. Longer text is a phone number."""
        text = str(ref).strip()
        if isinstance(ref, int):
            found = Contact.get_or_none(Contact.id == ref) if _is_id(text) else None
            if found is None:
                raise NotFound(f"no contact with id {ref}.", field="contact")
            return found
        if _is_id(text) and len(text) < 7:
            found = Contact.get_or_none(Contact.id == int(text))
        elif is_user_id(text):
            found = Contact.get_or_none(Contact.wa_user_id == text)
        else:
            found = Contact.get_or_none(Contact.phone == normalize_phone(text, field="contact"))
        if found is None:
            raise NotFound(f"no contact {mask_identity(text) if len(text) > 6 else text!r}.", field="contact")
        return found


def _who(contact: Contact) -> str:
    return mask_identity(contact.phone or contact.wa_user_id)


def _is_id(text: str) -> bool:
    """True for ASCII digits that fit an id column (at most 18, so any 64-bit engine takes them)."""
    return text.isascii() and text.isdigit() and 0 < len(text) <= 18
