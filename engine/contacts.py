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
from engine.phones import is_user_id, mask_identity, mask_phone, mask_user_id, normalize_phone
from engine.tags import normalize_tag
from storage import audience
from storage import contacts as store
from storage.models import Contact, Tag
from storage.states import ContactStatus

# Opt-outs the contact made themselves; only the contact can reverse them.
SELF_OPT_OUTS = frozenset({"keyword", "button", "user_preferences", "meta_131050"})


@dataclass(frozen=True)
class ContactRow:
    """One validated contact to write. ``None`` means "leave as it is".

    A contact is identified by ``phone`` (E.164) or by ``wa_user_id`` (the business-scoped user
    id of a WhatsApp username user whose number is withheld), or both.
    """

    phone: str | None
    name: str | None = None
    tags: tuple[str, ...] = ()
    opted_in: bool | None = None
    attributes: dict[str, Any] | None = None
    wa_user_id: str | None = None
    username: str | None = None

    @property
    def who(self) -> str:
        """The row's identity as people may read it (masked)."""
        return mask_phone(self.phone) if self.phone else mask_user_id(self.wa_user_id or "")


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
        "wa_user_id": contact.wa_user_id,
        "username": contact.username,
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
        known = _Known.look_up(self.db, rows)
        pending: dict[str, ContactRow] = {}  # identity key -> the rows for it, merged in order
        keys: dict[int, str] = {}  # row index -> identity key
        for index, row in enumerate(rows):
            key, state, problem = known.resolve(row)
            reason = problem or _refusal(state, row, restore_deleted)
            if reason:
                result.rejected.append((index, reason))
                continue
            keys[index] = key
            earlier = pending.get(key)
            pending[key] = _merge(earlier, row) if earlier else row

        fresh = [(key, row) for key, row in pending.items() if not key.startswith("#")]
        created = self._insert(fresh, now, source)
        ids: dict[str, int] = dict(created)
        changes: list[store.ContactChange] = []
        opted_out: list[int] = []
        late = [row for key, row in fresh if key not in created]  # a concurrent writer was first
        known.add(self.db, late)
        for key, row in pending.items():
            if key in created:
                continue
            state = known.existing(key, row)
            ids[key] = state.id
            change, left = _apply(state, row, source, now)
            if change is not None:
                changes.append(change)
            if left:
                opted_out.append(state.id)
        store.update_contacts(self.db, changes, now)

        result.ids = {index: ids[key] for index, key in keys.items()}
        result.created = sorted(created.values())
        created_set = set(result.created)
        result.updated = sorted({i for i in ids.values() if i not in created_set})

        self._tag([(ids[k], t) for k, r in pending.items() for t in r.tags], now, fresh=created_set)
        self.bus.publish(ContactCreated(tuple(result.created), now))
        self.bus.publish(ContactOptedOut(tuple(opted_out), source, now))
        return result

    def _insert(self, fresh: Sequence[tuple[str, ContactRow]], now: datetime, source: str) -> dict[str, int]:
        """Insert new contacts; returns identity key → id for those inserted. One that arrives
        opted out (a STOP from someone Herald never stored) keeps where that came from, so no
        import or API call can subscribe them again."""
        by_phone = [(k, r) for k, r in fresh if r.phone]
        by_user_id = [(k, r) for k, r in fresh if not r.phone]
        created: dict[str, int] = {}
        for identity, part in (("phone", by_phone), ("wa_user_id", by_user_id)):
            inserted = store.insert_contacts(
                self.db, [_new(r) for _, r in part], now, identity=identity, source=source
            )
            created.update(
                {k: inserted[getattr(r, identity)] for k, r in part if getattr(r, identity) in inserted}
            )
        return created

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
            row = ContactRow(phone=contact.phone, opted_in=opted_in, wa_user_id=contact.wa_user_id)
            state = store.find_by_id(self.db, contact_id, lock=True)
            assert state is not None  # contacts are never deleted, only marked so
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
            phone=mask_identity(view["phone"] or view["wa_user_id"]),
            **detail,
        )

    # -- reading -------------------------------------------------------------

    def get(self, contact_id: int) -> views.Contact:
        return self._view(self._get(contact_id).id)

    def find(self, ref: str | int) -> views.Contact:
        """A contact by id, by business-scoped user id (``US.1349…``) or by phone (any accepted
        format)."""
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit() and len(ref) < 7):
            return self.get(int(ref))
        if is_user_id(str(ref)):
            found = Contact.get_or_none(Contact.wa_user_id == str(ref).strip())
            if found is None:
                raise NotFound(f"no contact with user id {mask_user_id(str(ref))}.", field="contact")
            return self._view(found.id)
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
        return f"{row.who} was deleted; restore it with POST /api/contacts first."
    if row.opted_in and not state.opted_in and state.opt_out_source in SELF_OPT_OUTS and not self_service:
        return f"{row.who} opted out themselves; only they can opt back in (by sending START)."
    return None


class _Known:
    """The existing contacts a batch of rows names, by phone and by user id (rows locked)."""

    def __init__(self) -> None:
        self.by_phone: dict[str, store.ContactState] = {}
        self.by_user_id: dict[str, store.ContactState] = {}

    @classmethod
    def look_up(cls, database: peewee.Database, rows: Sequence[ContactRow]) -> _Known:
        known = cls()
        known.add(database, rows)
        return known

    def add(self, database: peewee.Database, rows: Sequence[ContactRow]) -> None:
        phones = [r.phone for r in rows if r.phone]
        user_ids = [r.wa_user_id for r in rows if r.wa_user_id]
        if phones:
            self.by_phone.update(store.find_by_phones(database, phones, lock=True))
        if user_ids:
            self.by_user_id.update(store.find_by_user_ids(database, user_ids, lock=True))

    def resolve(self, row: ContactRow) -> tuple[str, store.ContactState | None, str | None]:
        """(identity key, the existing contact or None, why the row is refused or None). An
        existing contact's key is ``#<id>``; a new one's its phone, else ``id:<user id>``."""
        by_phone = self.by_phone.get(row.phone) if row.phone else None
        by_user_id = self.by_user_id.get(row.wa_user_id) if row.wa_user_id else None
        if by_phone and by_user_id and by_phone.id != by_user_id.id:
            return "", None, f"{row.who}'s user id belongs to another contact (#{by_user_id.id})."
        if by_phone and row.wa_user_id and by_phone.wa_user_id not in (None, row.wa_user_id):
            return "", None, f"{row.who} has another user id already."
        if by_user_id and row.phone and by_user_id.phone not in (None, row.phone):
            return "", None, f"that user id belongs to a contact with another phone (#{by_user_id.id})."
        state = by_phone or by_user_id
        if state is not None:
            return f"#{state.id}", state, None
        return (row.phone or f"id:{row.wa_user_id}"), None, None

    def existing(self, key: str, row: ContactRow) -> store.ContactState:
        if key.startswith("#"):
            for state in (*self.by_phone.values(), *self.by_user_id.values()):
                if f"#{state.id}" == key:
                    return state
        found = (self.by_phone.get(row.phone) if row.phone else None) or self.by_user_id.get(
            row.wa_user_id or ""
        )
        assert found is not None, key
        return found


def _new(row: ContactRow) -> tuple[str | None, str, bool, dict[str, Any], str | None, str | None]:
    opted_in = row.opted_in if row.opted_in is not None else True
    return (row.phone, row.name or "", opted_in, row.attributes or {}, row.wa_user_id, row.username)


def _merge(first: ContactRow, second: ContactRow) -> ContactRow:
    attrs = (
        {**(first.attributes or {}), **(second.attributes or {})}
        if (first.attributes or second.attributes)
        else None
    )
    return ContactRow(
        phone=first.phone or second.phone,
        name=second.name if second.name is not None else first.name,
        tags=tuple(dict.fromkeys((*first.tags, *second.tags))),
        opted_in=second.opted_in if second.opted_in is not None else first.opted_in,
        attributes=attrs,
        wa_user_id=first.wa_user_id or second.wa_user_id,
        username=second.username or first.username,
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
    phone = state.phone or row.phone  # a user-id contact learns its number; a number stays
    user_id = state.wa_user_id or row.wa_user_id
    username = row.username or state.username
    unchanged = (
        name == state.name
        and attributes == state.attributes
        and opted_in == state.opted_in
        and status == state.status
        and (phone, user_id, username) == (state.phone, state.wa_user_id, state.username)
    )
    if unchanged:
        return None, False
    return (
        store.ContactChange(
            id=state.id,
            phone=phone,
            wa_user_id=user_id,
            username=username,
            name=name,
            opted_in=opted_in,
            status=status,
            attributes=attributes,
            opted_out_at=(now if left else state.opted_out_at) if not opted_in else None,
            opt_out_source=(source if left else state.opt_out_source) if not opted_in else None,
        ),
        left,
    )
