"""Contacts: upsert by phone, tags, opt-in and opt-out, soft delete.

One set-based writer (``Contacts.write``) serves a single API upsert and a
chunk of a million-row import alike. Rules that matter to the people being
messaged:

- A number is stored in E.164 or refused with the reason.
- An opt-out that came from the contact (STOP, the "Stop promotions" button,
  WhatsApp's own marketing preference) is only undone by the contact (START);
  an API call or an import cannot re-subscribe them.
- A deleted contact is never messaged; an import does not bring it back, an
  explicit API upsert does.

Each change a person asks for (``upsert``, ``add_tags``, ``remove_tags``,
``set_opt_in``, ``delete``) takes the acting person and records itself in the
audit log, phones masked; ``write`` is the unaudited set-based writer under them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import peewee

from engine import views
from engine.actor import Actor
from engine.audit import Audit
from engine.clock import Clock
from engine.errors import Conflict, Invalid, NotFound
from engine.events import ContactCreated, ContactDeleted, ContactOptedOut, EventBus, TagAdded
from engine.phones import mask_phone, normalize_phone
from engine.tags import normalize_tag
from storage import audience
from storage import contacts as store
from storage.models import Contact, Tag
from storage.states import ContactStatus

# Opt-outs the contact made themselves; only the contact can reverse them.
SELF_OPT_OUTS = frozenset({"keyword", "button", "user_preferences", "meta_131050"})


@dataclass(frozen=True)
class ContactRow:
    """One validated contact to write. ``None`` means "leave as it is"."""

    phone: str
    name: str | None = None
    tags: tuple[str, ...] = ()
    opted_in: bool | None = None
    attributes: dict[str, Any] | None = None


@dataclass
class WriteResult:
    created: list[int] = field(default_factory=list)  # contact ids
    updated: list[int] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (row index, reason)
    ids: dict[int, int] = field(default_factory=dict)  # row index -> contact id


@dataclass(frozen=True)
class Reach:
    matched: int  # contacts with any of the tags
    opted_out: int
    deleted: int
    reachable: int  # opted in and active: who a broadcast to these tags would reach


def contact_view(contact: Contact, tags: Sequence[str]) -> views.Contact:
    """The contract shape of a contact."""
    return {
        "id": contact.id,
        "phone": contact.phone,
        "name": contact.name,
        "tags": sorted(tags),
        "opted_in": bool(contact.opted_in),
        "status": ContactStatus(contact.status),
        "attributes": contact.attributes or {},
    }


class Contacts:
    def __init__(self, database: peewee.Database, bus: EventBus, clock: Clock, audit: Audit) -> None:
        self.db = database
        self.bus = bus
        self.clock = clock
        self.audit = audit

    # -- writing -------------------------------------------------------------

    def write(self, rows: Sequence[ContactRow], *, source: str, restore_deleted: bool = False) -> WriteResult:
        """Upsert ``rows`` (already normalised) in one transaction.

        ``source`` names where the change came from (``api``, ``import``,
        ``slack``...), recorded on opt-outs. Rows for the same phone merge in
        order. Rejected rows change nothing.
        """
        with self.db.atomic():
            return self._write(rows, source=source, restore_deleted=restore_deleted)

    def _write(self, rows: Sequence[ContactRow], *, source: str, restore_deleted: bool) -> WriteResult:
        now = self.clock.now()
        result = WriteResult()
        existing = store.find_by_phones(self.db, [r.phone for r in rows], lock=True)
        pending: dict[str, ContactRow] = {}
        for index, row in enumerate(rows):
            state = existing.get(row.phone)
            reason = _refusal(state, row, restore_deleted)
            if reason:
                result.rejected.append((index, reason))
                continue
            earlier = pending.get(row.phone)
            pending[row.phone] = _merge(earlier, row) if earlier else row

        new_rows = [
            (p, r.name or "", r.opted_in if r.opted_in is not None else True, r.attributes or {})
            for p, r in pending.items()
            if p not in existing
        ]
        created = store.insert_contacts(self.db, new_rows, now)
        if len(created) < len(new_rows):  # a concurrent writer inserted some first
            existing.update(
                store.find_by_phones(self.db, [r[0] for r in new_rows if r[0] not in created], lock=True)
            )

        changes: list[store.ContactChange] = []
        opted_out: list[int] = []
        phone_ids: dict[str, int] = dict(created)
        for phone, row in pending.items():
            if phone in created:
                continue
            state = existing[phone]
            phone_ids[phone] = state.id
            change, left = _apply(state, row, source, now)
            if change is not None:
                changes.append(change)
            if left:
                opted_out.append(state.id)
        store.update_contacts(self.db, changes, now)

        refused = {index for index, _ in result.rejected}
        result.ids = {i: phone_ids[r.phone] for i, r in enumerate(rows) if i not in refused}
        result.created = sorted(created.values())
        created_set = set(result.created)
        result.updated = sorted({i for i in phone_ids.values() if i not in created_set})

        self._tag([(phone_ids[p], t) for p, r in pending.items() for t in r.tags], now, fresh=created_set)
        self.bus.publish(ContactCreated(tuple(result.created), now))
        self.bus.publish(ContactOptedOut(tuple(opted_out), source, now))
        return result

    def _tag(
        self, pairs: Sequence[tuple[int, str]], now: datetime, *, fresh: Collection[int] = ()
    ) -> dict[str, list[int]]:
        """Link tags; publish TagAdded for links that are new. Returns tag → new contact ids.

        ``fresh``: contacts this transaction created (they have no links yet).
        """
        if not pairs:
            return {}
        ids = store.ensure_tags(self.db, sorted({t for _, t in pairs}), now)
        names = {v: k for k, v in ids.items()}
        new = store.link_tags(self.db, [(cid, ids[t]) for cid, t in pairs], now, fresh=fresh)
        by_tag: dict[str, list[int]] = {}
        for cid, tid in new:
            by_tag.setdefault(names[tid], []).append(cid)
        for tag, cids in sorted(by_tag.items()):
            self.bus.publish(TagAdded(tag, tuple(sorted(cids)), now))
        return by_tag

    def upsert(self, row: ContactRow, *, by: Actor) -> tuple[views.Contact, bool]:
        """Create or update one contact. Returns (contact, created).

        Raises Conflict when the contact opted themselves out and the row asks
        to opt them back in.
        """
        with self.db.atomic():
            result = self._write([row], source=by.face, restore_deleted=True)
            if result.rejected:
                raise Conflict(result.rejected[0][1], field="opted_in")
            contact_id = result.ids[0]
            created = contact_id in result.created
            view = self._view(contact_id)
            self._audit(by, "contact.create" if created else "contact.update", view)
            return view, created

    def add_tags(self, contact_id: int, tags: Sequence[str], *, by: Actor) -> views.Contact:
        """Tag a contact (``tag_added`` sequences start). Raises Invalid with no tags."""
        names = [normalize_tag(t) for t in tags]
        if not names:
            raise Invalid("no tags given.", field="tags", hint='Send {"tags": ["vip"]}.')
        with self.db.atomic():
            self._active(contact_id)
            self._tag([(contact_id, t) for t in names], self.clock.now())
            view = self._view(contact_id)
            self._audit(by, "contact.tag", view, tags=names)
            return view

    def remove_tags(self, contact_id: int, tags: Sequence[str], *, by: Actor) -> views.Contact:
        """Untag a contact. Raises NotFound (changing nothing) for a tag it does not have."""
        names = [normalize_tag(t, field="tag") for t in tags]
        with self.db.atomic():
            self._get(contact_id)
            for name in names:
                found = Tag.get_or_none(Tag.name == name)
                if found is None or not store.unlink_tag(self.db, contact_id, found.id):
                    raise NotFound(f"contact {contact_id} has no tag {name!r}.", field="tag")
            view = self._view(contact_id)
            self._audit(by, "contact.untag", view, tags=names)
            return view

    def set_opt_in(
        self, contact_id: int, opted_in: bool, *, by: Actor, source: str | None = None
    ) -> views.Contact:
        """Opt a contact in or out. Raises Conflict when re-subscribing someone who said STOP.

        ``source`` says how (``keyword``, ``button``...) when it is not the actor's face.
        """
        source = source or by.face
        with self.db.atomic():
            contact = self._active(contact_id)
            row = ContactRow(phone=contact.phone, opted_in=opted_in)
            state = store.find_by_phones(self.db, [contact.phone], lock=True)[contact.phone]
            reason = _refusal(state, row, restore_deleted=False, self_service=source in SELF_OPT_OUTS)
            if reason:
                raise Conflict(reason, field="opted_in")
            now = self.clock.now()
            change, left = _apply(state, row, source, now)
            if change is not None:
                store.update_contacts(self.db, [change], now)
            if left:
                self.bus.publish(ContactOptedOut((contact_id,), source, now))
            view = self._view(contact_id)
            self._audit(by, "contact.optin" if opted_in else "contact.optout", view, source=source)
            return view

    def delete(self, contact_id: int, *, by: Actor) -> views.Contact:
        """Soft delete: the contact stays for the ledger's history, and is never messaged."""
        with self.db.atomic():
            contact = self._get(contact_id)
            if contact.status != ContactStatus.DELETED:
                now = self.clock.now()
                Contact.update(status=ContactStatus.DELETED, updated_at=now).where(
                    Contact.id == contact_id
                ).execute()
                self.bus.publish(ContactDeleted((contact_id,), now))
            view = self._view(contact_id)
            self._audit(by, "contact.delete", view)
            return view

    def _audit(self, by: Actor, action: str, view: views.Contact, **detail: Any) -> None:
        self.audit.record(
            face=by.face,
            actor=by.id,
            action=action,
            target=str(view["id"]),
            phone=mask_phone(view["phone"]),
            **detail,
        )

    # -- reading -------------------------------------------------------------

    def get(self, contact_id: int) -> views.Contact:
        return self._view(self._get(contact_id).id)

    def find(self, ref: str | int) -> views.Contact:
        """A contact by id or by phone (any accepted format)."""
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit() and len(ref) < 7):
            return self.get(int(ref))
        phone = normalize_phone(str(ref), field="contact")
        contact = Contact.get_or_none(Contact.phone == phone)
        if contact is None:
            raise NotFound(f"no contact with phone {mask_phone(phone)}.", field="contact")
        return self._view(contact.id)

    def page(
        self, tags: Sequence[str] = (), *, after: int = 0, limit: int = 100
    ) -> tuple[list[views.Contact], int | None]:
        """Contacts (any status) having ANY of ``tags``, by id, keyset-paged.

        Returns (page, next cursor or None).
        """
        query = Contact.select().where(Contact.id > after).order_by(Contact.id).limit(limit + 1)
        if tags:
            names = [normalize_tag(t, field="tag") for t in tags]
            ids = list(store.tag_ids(self.db, names).values())
            if not ids:
                return [], None
            from storage.models import ContactTag  # noqa: PLC0415 - local to keep the import list short

            query = query.where(
                peewee.fn.EXISTS(
                    ContactTag.select(peewee.SQL("1")).where(
                        (ContactTag.contact == Contact.id)
                        & (ContactTag.tag.in_(ids))
                        & (ContactTag.contact > after)
                    )
                )
            )
        page = list(query)
        more = len(page) > limit
        page = page[:limit]
        tags_by = store.tags_for(self.db, [c.id for c in page])
        views = [contact_view(c, tags_by.get(c.id, [])) for c in page]
        return views, (page[-1].id if more else None)

    def tag_names(self) -> list[str]:
        """Every tag in use, sorted (what the chat faces suggest from)."""
        return sorted(t.name for t in Tag.select(Tag.name))

    def reachable(self, tags: Sequence[str]) -> Reach:
        """How many contacts have ANY of ``tags``, and how many of them can be messaged."""
        names = [normalize_tag(t) for t in tags]
        ids = list(store.tag_ids(self.db, names).values())
        counts = audience.waterfall(self.db, ids, None)
        return Reach(
            matched=counts.matched,
            opted_out=counts.opted_out,
            deleted=counts.deleted,
            reachable=counts.matched - counts.opted_out - counts.deleted,
        )

    def _get(self, contact_id: int) -> Contact:
        contact = Contact.get_or_none(Contact.id == contact_id)
        if contact is None:
            raise NotFound(f"no contact with id {contact_id}.", field="id")
        return contact

    def _active(self, contact_id: int) -> Contact:
        contact = self._get(contact_id)
        if contact.status == ContactStatus.DELETED:
            raise Conflict(
                f"contact {contact_id} was deleted.",
                hint="POST it to /api/contacts again to restore it.",
            )
        return contact

    def _view(self, contact_id: int) -> views.Contact:
        contact = self._get(contact_id)
        return contact_view(contact, store.tags_for(self.db, [contact_id]).get(contact_id, []))


def _refusal(
    state: store.ContactState | None,
    row: ContactRow,
    restore_deleted: bool,
    self_service: bool = False,
) -> str | None:
    if state is None:
        return None
    if state.status == ContactStatus.DELETED and not restore_deleted:
        return f"{mask_phone(row.phone)} was deleted; restore it with POST /api/contacts first."
    if row.opted_in and not state.opted_in and state.opt_out_source in SELF_OPT_OUTS and not self_service:
        return f"{mask_phone(row.phone)} opted out themselves; only they can opt back in (by sending START)."
    return None


def _merge(first: ContactRow, second: ContactRow) -> ContactRow:
    attrs = (
        {**(first.attributes or {}), **(second.attributes or {})}
        if (first.attributes or second.attributes)
        else None
    )
    return ContactRow(
        phone=first.phone,
        name=second.name if second.name is not None else first.name,
        tags=tuple(dict.fromkeys((*first.tags, *second.tags))),
        opted_in=second.opted_in if second.opted_in is not None else first.opted_in,
        attributes=attrs,
    )


def _apply(
    state: store.ContactState, row: ContactRow, source: str, now: datetime
) -> tuple[store.ContactChange | None, bool]:
    """The change ``row`` makes to an existing contact, and whether it opts them out."""
    name = row.name if row.name is not None else state.name
    attributes = {**state.attributes, **row.attributes} if row.attributes else state.attributes
    opted_in = state.opted_in if row.opted_in is None else row.opted_in
    status = ContactStatus.ACTIVE
    left = state.opted_in and not opted_in
    unchanged = (
        name == state.name
        and attributes == state.attributes
        and opted_in == state.opted_in
        and status == state.status
    )
    if unchanged:
        return None, False
    return (
        store.ContactChange(
            id=state.id,
            name=name,
            opted_in=opted_in,
            status=status,
            attributes=attributes,
            opted_out_at=(now if left else state.opted_out_at) if not opted_in else None,
            opt_out_source=(source if left else state.opt_out_source) if not opted_in else None,
        ),
        left,
    )
