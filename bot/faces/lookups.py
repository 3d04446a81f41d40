"""Read-only answers about what exists, found by what people call it, and broadcasts named in
words: "who is Asha?", "contacts tagged vip", "enrollments of +91…", "pause the diwali promo".

Part of the command layer (``bot.faces.commands`` delegates here). A name that fits
several things is asked back ("did you mean…"), a change to a broadcast found by
name is shown back for a yes, and phones are masked in every answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bot.container import Herald
from bot.faces import messages
from bot.faces.answers import (
    Answer,
    Asked,
    BroadcastListing,
    BroadcastReport,
    ContactListing,
    ContactReport,
    EnrollmentListing,
    Said,
    SequenceListing,
    TemplateListing,
)
from bot.faces.requests import Request
from bot.grammar import (
    BroadcastAction,
    BroadcastFind,
    BroadcastList,
    ContactFind,
    ContactList,
    ContactShow,
    EnrollmentList,
    Question,
    SequenceList,
    TemplateList,
)
from bot.grammar.natural.confirm import proposal
from bot.grammar.natural.targets import LATEST_NAME
from engine.lookup import broadcast_names, contacts_named, distinct, everyone, match_names
from engine.phones import mask_identity, mask_phone
from engine.templates import template_view

LIST_LIMIT = 10


class Lookups:
    def __init__(self, herald: Herald) -> None:
        self.herald = herald

    def handlers(self) -> dict[type, Callable[[Any, Request], Answer]]:
        return {
            BroadcastList: self._broadcasts,
            ContactShow: self._contact,
            ContactFind: self._contacts_named,
            ContactList: self._contacts,
            EnrollmentList: self._enrollments,
            SequenceList: self._sequences,
            TemplateList: self._templates,
        }

    # -- broadcasts ----------------------------------------------------------------------

    def broadcast(self, command: BroadcastFind) -> Answer | BroadcastAction:
        """What "how did the diwali promo do" or "pause the diwali one" answers: a report, a list,
        a "did you mean", a change shown back for a yes, or (to send it) the broadcast's action.
        """
        window = command.window
        named = broadcast_names(window.start if window else None, window.end if window else None)
        latest = command.template_or_name == LATEST_NAME
        found = named[:1] if latest else match_names(command.template_or_name, named)
        if not found:
            return Said(
                messages.no_broadcasts_yet() if latest else messages.none_found(command.template_or_name)
            )
        choices = distinct(found)
        if command.action in ("show", "stats"):
            if len(found) == 1:
                return BroadcastReport(self.herald.broadcasts.get(found[0].id))
            if len(choices) == 1 or _of_template(command.template_or_name, found):
                views = [self.herald.broadcasts.get(n.id) for n in found[:LIST_LIMIT]]
                return BroadcastListing(views, messages.found_title(command.template_or_name))
        if len(choices) > 1:
            question = Question(
                messages.which_broadcast(command.action, [(n.id, n.name, n.status) for n in choices]),
                choices=tuple(BroadcastAction(command.action, n.id) for n in choices),
            )
            return Asked(question.text, question)
        one = BroadcastAction(command.action, found[0].id)
        if command.action == "send":  # previewed and confirmed like any send
            return one
        asked = proposal(one, label=found[0].name)
        return Asked(asked.text, asked)

    def _broadcasts(self, command: BroadcastList, request: Request) -> Answer:
        found = self.herald.broadcasts.recent(limit=LIST_LIMIT, status=command.status)
        return BroadcastListing(found, messages.recent_title(command.status))

    # -- contacts and enrollments --------------------------------------------------------

    def _contact(self, command: ContactShow, request: Request) -> Answer:
        contact = self.herald.contacts.find(command.phone)
        enrollments = self.herald.sequences.enrollments_for(contact["id"])
        return ContactReport(_masked(contact), enrollments)

    def _contacts_named(self, command: ContactFind, request: Request) -> Answer:
        found = contacts_named(self.herald.database, command.name, limit=LIST_LIMIT)
        if not found:
            return Said(messages.no_contact_named(command.name))
        if len(found) == 1:
            return self._contact(ContactShow(_ref(found[0])), request)
        shown = [(c["name"], mask_identity(_ref(c))) for c in found]
        question = Question(
            messages.which_contact(command.name, shown),
            choices=tuple(ContactShow(_ref(c)) for c in found),
        )
        return Asked(question.text, question)

    def _contacts(self, command: ContactList, request: Request) -> Answer:
        contacts = self.herald.contacts
        tags = list(command.tags)
        reach = contacts.reachable(tags) if tags else everyone(self.herald.database)
        page, _ = contacts.page(tags, limit=LIST_LIMIT)
        return ContactListing([_masked(c) for c in page], reach.matched, messages.contacts_title(tags))

    def _enrollments(self, command: EnrollmentList, request: Request) -> Answer:
        found = self.herald.sequences.enrollments_for(command.phone)
        if command.sequence is not None:
            found = [e for e in found if e["sequence"].lower() == command.sequence.lower()]
        return EnrollmentListing(found, mask_phone(command.phone))

    # -- sequences and templates ---------------------------------------------------------

    def _sequences(self, command: SequenceList, request: Request) -> Answer:
        found = self.herald.sequences.all()
        if command.status:
            found = [s for s in found if s.get("status") == command.status]
        return SequenceListing(list(found))

    def _templates(self, command: TemplateList, request: Request) -> Answer:
        listed = self.herald.templates.listed(status=command.status)
        if command.name:
            exact = [t for t in listed if t.name == command.name]
            listed = exact or [t for t in listed if command.name in t.name]
            if not listed:
                return Said(messages.no_template_like(command.name))
        return TemplateListing([_template_row(t) for t in listed])


def _of_template(wanted: str, found: list[Any]) -> bool:
    """Broadcasts of the template named ("how did promo_autumn do?"): a list, not a question."""
    name = wanted.strip().lower().replace(" ", "_")
    return all(n.template == name for n in found)


def _ref(contact: Mapping[str, Any]) -> str:
    """How a contact is named again: its phone, or the user id of a username user."""
    return str(contact["phone"] or contact["wa_user_id"])


def _masked(contact: Mapping[str, Any]) -> dict[str, Any]:
    return {**contact, "phone": mask_identity(contact["phone"] or contact.get("wa_user_id"))}


def _template_row(template: Any) -> dict[str, Any]:
    view = template_view(template)
    return {k: view[k] for k in ("name", "language", "category", "status")}
