"""Contact and sequence commands: add, tag, untag, opt out, count; list, show, activate, pause, enroll.

Part of the command layer (``bot.faces.commands`` delegates here). Phones are
shown masked in every answer and in the audit log.

Sequence commands call ``herald.sequences`` (``engine.sequences.service``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.container import Herald
from bot.faces import messages
from bot.faces.answers import Answer, Said, SequenceReport
from bot.faces.requests import Request, refusal
from bot.grammar import (
    Command,
    ContactAdd,
    ContactCount,
    ContactOptOut,
    ContactTag,
    ContactUntag,
    SequenceAction,
    SequenceEnroll,
)
from engine.contacts import ContactRow
from engine.errors import HeraldError
from engine.lookup import everyone
from engine.phones import mask_identity, mask_phone


class PeopleCommands:
    def __init__(self, herald: Herald) -> None:
        self.herald = herald

    def handle(self, command: Command, request: Request) -> Answer:
        handlers: dict[type, Callable[[Any, Request], Answer]] = {
            ContactAdd: self._add,
            ContactTag: self._tag,
            ContactUntag: self._untag,
            ContactOptOut: self._opt_out,
            ContactCount: self._count,
            SequenceAction: self._sequence,
            SequenceEnroll: self._enroll,
        }
        handler = handlers.get(type(command))
        if handler is None:
            return Said(messages.unexpected_error())
        try:
            return handler(command, request)
        except HeraldError as exc:
            return refusal(exc)

    # -- contacts ------------------------------------------------------------------------

    def _add(self, command: ContactAdd, request: Request) -> Answer:
        row = ContactRow(phone=command.phone, name=command.name, tags=command.tags)
        view, created = self.herald.contacts.upsert(row, by=request.actor)
        return Said(
            messages.contact_saved(
                mask_identity(view["phone"] or view["wa_user_id"]), command.name, list(command.tags), created
            )
        )

    def _tag(self, command: ContactTag, request: Request) -> Answer:
        contacts = self.herald.contacts
        with self.herald.database.atomic():
            contact = contacts.find(command.phone)
            contacts.add_tags(contact["id"], list(command.tags), by=request.actor)
        return Said(messages.tagged(mask_phone(command.phone), list(command.tags)))

    def _untag(self, command: ContactUntag, request: Request) -> Answer:
        contacts = self.herald.contacts
        with self.herald.database.atomic():
            contact = contacts.find(command.phone)
            contacts.remove_tags(contact["id"], list(command.tags), by=request.actor)
        return Said(messages.untagged(mask_phone(command.phone), list(command.tags)))

    def _opt_out(self, command: ContactOptOut, request: Request) -> Answer:
        contacts = self.herald.contacts
        with self.herald.database.atomic():
            contact = contacts.find(command.phone)
            contacts.set_opt_in(contact["id"], False, by=request.actor)
        return Said(messages.opted_out(mask_phone(command.phone)))

    def _count(self, command: ContactCount, request: Request) -> Answer:
        tags = list(command.tags)
        reach = self.herald.contacts.reachable(tags) if tags else everyone(self.herald.database)
        return Said(messages.counted(tags, reach.reachable, reach.matched, reach.opted_out, reach.deleted))

    # -- sequences -----------------------------------------------------------------------

    def _sequence(self, command: SequenceAction, request: Request) -> Answer:
        sequences = self.herald.sequences
        if command.action == "show":
            return SequenceReport(sequences.get(command.sequence))
        move = sequences.activate if command.action == "activate" else sequences.pause
        view = move(command.sequence, by=request.actor)
        return Said(messages.sequence_moved(view.get("name", command.sequence), view.get("status", "")))

    def _enroll(self, command: SequenceEnroll, request: Request) -> Answer:
        self.herald.sequences.enroll(command.sequence, command.phone, by=request.actor, source="manual")
        return Said(messages.enrolled(mask_phone(command.phone), command.sequence))
