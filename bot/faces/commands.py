"""One command layer for every chat face: a Command and who asked → an Answer.

    CommandHandler(herald).run(text, request)        the formal language (slash commands)
    CommandHandler(herald).handle(command, request)  a Command read any other way
    .confirm(broadcast_id, request, intent, seen=)   the preview's Confirm (``seen``: its fingerprint)
    .discard(broadcast_id, request)                  and its Cancel

Methods are synchronous and talk to the database: a face calls them on a
database thread (``await herald.db(handler.run, ...)``). Every broadcast is
created as a held draft with a preview; nothing is sent or scheduled until an
admin confirms. Engine refusals come back as ``Refused`` answers, never as
exceptions. The engine records every change in the audit log with the acting
person and face (``request.actor``); only a refused admin command is recorded here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.container import Herald
from bot.faces import messages
from bot.faces.access import needs_admin
from bot.faces.answers import (
    Answer,
    Asked,
    BroadcastDone,
    BroadcastPreview,
    BroadcastReport,
    Intent,
    Outcome,
    Refused,
    Said,
    StatsReport,
    Why,
)
from bot.faces.lookups import Lookups
from bot.faces.people import PeopleCommands
from bot.faces.requests import Request, refusal
from bot.grammar import (
    BroadcastAction,
    BroadcastCreate,
    BroadcastFind,
    Cancel,
    Chitchat,
    Command,
    Confirm,
    Help,
    Question,
    Schedule,
    ScheduleKind,
    Stats,
    TemplateSync,
    Vocabulary,
    parse,
)
from bot.grammar import messages as grammar_messages
from engine import lifecycle, stats
from engine.broadcasts import BroadcastSpec
from engine.errors import Changed, Conflict, HeraldError
from storage.states import BroadcastStatus

LIST_LIMIT = 10


class CommandHandler:
    def __init__(self, herald: Herald) -> None:
        self.herald = herald
        self.people = PeopleCommands(herald)
        self.lookups = Lookups(herald)

    # -- entry points --------------------------------------------------------------------

    def vocabulary(self) -> Vocabulary:
        """The names commands are checked against: templates, tags and sequences."""
        return Vocabulary.of(
            templates=self.herald.templates.names(),
            tags=self.herald.contacts.tag_names(),
            sequences=self.herald.sequences.names(),
        )

    def run(self, text: str, request: Request) -> Answer:
        """Read ``text`` in the command language (``broadcast promo tags:vip at 9am``) and do it."""
        try:
            command = parse(
                text, now=self.herald.clock.now(), tz=request.timezone, vocabulary=self.vocabulary()
            )
        except HeraldError as exc:
            return refusal(exc)
        return self.handle(command, request)

    def handle(self, command: Command | Question, request: Request) -> Answer:
        if isinstance(command, Question):
            if command.confirm and not request.admin and any(needs_admin(c) for c in command.choices):
                return self._forbidden(type(command.choices[0]).__name__, request)
            return Asked(command.text, command)
        if needs_admin(command) and not request.admin:
            return self._forbidden(type(command).__name__, request)
        handler = self._handlers().get(type(command))
        if handler is None:
            return self.people.handle(command, request)
        try:
            return handler(command, request)
        except HeraldError as exc:
            return refusal(exc)

    def confirm(
        self, broadcast_id: int, request: Request, intent: Intent = Intent.CONFIRM, *, seen: str | None
    ) -> Answer:
        """A preview's Confirm: schedule or start the held draft (or, for SEND, start it now).

        ``seen`` is the fingerprint of the preview being confirmed. When the
        broadcast changed after it (or the Confirm names none: a button from
        before fingerprints), nothing moves and the answer is a fresh preview.
        """
        if not request.admin:
            return self._forbidden("confirm", request)
        broadcasts = self.herald.broadcasts
        try:
            if seen is None:
                raise Changed("a Confirm without a fingerprint confirms nothing.")
            if intent is Intent.SEND:
                view = broadcasts.start(broadcast_id, by=request.actor, seen=seen)
            else:
                view = broadcasts.confirm(broadcast_id, by=request.actor, seen=seen)
        except Changed:
            return self._preview(broadcast_id, None, intent, changed=True)
        except Conflict:
            return BroadcastDone(broadcasts.get(broadcast_id), Outcome.ALREADY_CONFIRMED, request.actor)
        except HeraldError as exc:
            return refusal(exc)
        outcome = Outcome.SCHEDULED if view["status"] == BroadcastStatus.SCHEDULED else Outcome.STARTED
        return BroadcastDone(view, outcome, request.actor)

    def discard(self, broadcast_id: int, request: Request) -> Answer:
        """A preview's Cancel: drop the held draft; a broadcast already confirmed is left alone."""
        if not request.admin:
            return self._forbidden("discard", request)
        try:
            view = self.herald.broadcasts.discard(broadcast_id, by=request.actor)
        except Conflict:
            return BroadcastDone(self.herald.broadcasts.get(broadcast_id), Outcome.NOT_A_DRAFT, request.actor)
        except HeraldError as exc:
            return refusal(exc)
        return BroadcastDone(view, Outcome.DISCARDED, request.actor)

    def resume(self, broadcast_id: int, request: Request) -> Answer:
        """An alert's Resume (the circuit breaker paused it): admins only."""
        if not request.admin:
            return self._forbidden("resume", request)
        try:
            view = self.herald.broadcasts.resume(broadcast_id, by=request.actor)
        except HeraldError as exc:
            return refusal(exc)
        return BroadcastDone(view, Outcome.RESUMED, request.actor)

    def resume_held(self, request: Request) -> Answer:
        """Resume every broadcast the circuit breaker holds (WhatsApp's RESUME): admins only."""
        if not request.admin:
            return self._forbidden("resume", request)
        names: list[str] = []
        refused: list[str] = []
        for broadcast_id in self.herald.breaker.held():
            try:
                names.append(self.herald.broadcasts.resume(broadcast_id, by=request.actor)["name"])
            except HeraldError as exc:
                refused.append(
                    messages.not_resumed(self.herald.broadcasts.get(broadcast_id)["name"], exc.render())
                )
        if not names and not refused:
            return Said(messages.nothing_held_by_breaker())
        said = [messages.resumed_by_breaker_reply(names)] if names else []
        return Said("\n".join([*said, *refused]))

    def revise(self, broadcast_id: int, command: BroadcastCreate, request: Request) -> Answer:
        """A follow-up ("make it 10am instead") changes the held draft it previewed, in place."""
        if not request.admin:
            return self._forbidden("revise", request)
        try:
            self.herald.broadcasts.edit(broadcast_id, self._spec(command, request), by=request.actor)
        except Conflict:  # confirmed or dropped meanwhile: the change is a new broadcast
            return self.handle(command, request)
        except HeraldError as exc:
            return refusal(exc)
        return self._preview(broadcast_id, command.schedule)

    # -- broadcasts ----------------------------------------------------------------------

    def _handlers(self) -> dict[type, Callable[[Any, Request], Answer]]:
        return {
            BroadcastCreate: self._create,
            BroadcastAction: self._action,
            BroadcastFind: self._find,
            TemplateSync: self._sync,
            **self.lookups.handlers(),
            Stats: self._stats,
            Help: self._help,
            Chitchat: lambda c, _r: Said(messages.hello() if c.kind == "hello" else messages.welcome()),
            Confirm: lambda _c, _r: Said(messages.nothing_to_confirm()),
            Cancel: lambda _c, _r: Said(messages.dropped()),
        }

    def _create(self, command: BroadcastCreate, request: Request) -> Answer:
        with self.herald.database.atomic():
            view = self.herald.broadcasts.create(self._spec(command, request), by=request.actor)
            return self._preview(view["id"], command.schedule)

    def _spec(self, command: BroadcastCreate, request: Request) -> BroadcastSpec:
        return BroadcastSpec(
            template=command.template,
            tags=list(command.tags),
            schedule=command.schedule,
            name=command.name,
            language=command.language,
            notify=request.notify,
            hold=True,
        )

    def _preview(
        self,
        broadcast_id: int,
        schedule: Schedule | None,
        intent: Intent | None = None,
        *,
        changed: bool = False,
    ) -> Answer:
        if intent is None and schedule is not None:
            intent = None if schedule.kind is ScheduleKind.DRAFT else Intent.CONFIRM
        view, preview, fingerprint = self.herald.broadcasts.shown(broadcast_id, mask=True)
        return BroadcastPreview(
            broadcast=view,
            preview=preview,
            intent=intent,
            mps=self.herald.settings.whatsapp_mps,
            fingerprint=fingerprint,
            changed=changed,
        )

    def _action(self, command: BroadcastAction, request: Request) -> Answer:
        broadcasts, actor, broadcast_id = self.herald.broadcasts, request.actor, command.broadcast_id
        if command.action in ("show", "stats"):
            return BroadcastReport(broadcasts.get(broadcast_id))
        if command.action == "send":
            current = broadcasts.get(broadcast_id)
            if current["status"] not in lifecycle.allowed_from("start"):
                raise Conflict(
                    f"broadcast {broadcast_id} cannot be sent: "
                    f"{lifecycle.refusal('start', current['status'])}."
                )
            return self._preview(broadcast_id, None, Intent.SEND)
        moves = {
            "cancel": (broadcasts.cancel, Outcome.CANCELLED),
            "pause": (broadcasts.pause, Outcome.PAUSED),
            "resume": (broadcasts.resume, Outcome.RESUMED),
        }
        move, outcome = moves[command.action]
        return BroadcastDone(move(broadcast_id, by=actor), outcome, actor)

    def _find(self, command: BroadcastFind, request: Request) -> Answer:
        found = self.lookups.broadcast(command)
        return self.handle(found, request) if isinstance(found, BroadcastAction) else found

    # -- templates, stats, help ----------------------------------------------------------

    def _sync(self, command: TemplateSync, request: Request) -> Answer:
        report = self.herald.template_sync.run(by=request.actor)
        return Said(messages.synced(report.synced, report.approved, report.skipped))

    def _stats(self, command: Stats, request: Request) -> Answer:
        window = command.window
        period = stats.report(self.herald.database, window.start, window.end)
        return StatsReport(window.label, window.timezone, period)

    def _help(self, command: Help, request: Request) -> Answer:
        return Said(grammar_messages.HELP.get(command.topic, grammar_messages.HELP[None]))

    def _forbidden(self, what: str, request: Request) -> Answer:
        actor = request.actor
        self.herald.audit.record(face=actor.face, actor=actor.id, action="refused", target=what)
        return Refused(messages.forbidden(request.admins_setting), Why.FORBIDDEN)
