"""Admins on WhatsApp: the command language sent to the business number, answered as WhatsApp text.

Only numbers in ``WHATSAPP_ADMINS`` are read as commands; a message from
anyone else is an ordinary inbound message (a reply, a STOP) and never a
command. Anything that sends or changes state is confirmed first: Herald
answers with what would happen ("Reply YES to send to 4,210 contacts at Mon
09:00 Asia/Kolkata") and acts only on a YES from the same admin sent after
the question and within ten minutes of it, by the message's own timestamp;
any other message cancels it. The confirmation waits in the
database, so whichever process applies the next webhook finds it.

Answers go out as free-form text inside the 24-hour window the admin's own
message opened, split where WhatsApp's 4,096-character limit requires.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.container import Herald
from bot.faces import messages, text
from bot.faces.access import needs_admin
from bot.faces.answers import Answer, Asked, BroadcastPreview, Intent, Said
from bot.faces.commands import CommandHandler
from bot.faces.conversation import Memories
from bot.faces.requests import Request, refusal
from bot.grammar import BroadcastFind, Cancel, Command, Confirm, Question, formal, interpret, normalize
from bot.grammar import messages as grammar_messages
from bot.grammar.commands import previews
from bot.grammar.natural.confirm import describe
from engine import alerts, views
from engine.actor import Actor
from engine.errors import HeraldError
from engine.phones import mask_phone
from engine.whatsapp.messages import TextMessage
from engine.whatsapp.webhook import InboundEvent
from storage.models import AdminPending

log = logging.getLogger("herald.whatsapp_admin")

CONFIRM_WINDOW = timedelta(minutes=10)
TEXT_LIMIT = 4096  # characters in one WhatsApp text message
YES = frozenset({"yes", "y", "yes.", "yes!", "confirm"})
RESUME = "resume"


def split(body: str, limit: int = TEXT_LIMIT) -> list[str]:
    """``body`` in parts of at most ``limit`` characters, cut at line ends where possible."""
    parts: list[str] = []
    current = ""
    for whole in body.split("\n"):
        rest = whole
        while len(rest) > limit:  # one line longer than a message: cut it hard
            if current:
                parts.append(current)
                current = ""
            parts.append(rest[:limit])
            rest = rest[limit:]
        candidate = f"{current}\n{rest}" if current else rest
        if len(candidate) > limit:
            parts.append(current)
            current = rest
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts


def for_whatsapp(answer_text: str) -> str:
    """Chat markdown as WhatsApp writes it: ``*bold*`` stays, Slack's ``<url|label>`` loses its url."""
    return answer_text.replace("**", "*")


class WhatsAppAdmin:
    """The hook the webhook ingest calls for every new inbound message."""

    def __init__(self, herald: Herald) -> None:
        self.herald = herald
        self.handler = CommandHandler(herald)
        self.zones = herald.settings.whatsapp_admin_zones
        self.memories = Memories()  # a question back, per admin, in this process

    def __call__(self, event: InboundEvent, contact_id: int | None) -> list[TextMessage] | None:
        """Replies to an admin's message; None when the sender is not an admin."""
        if event.phone is None or event.phone not in self.zones:
            return None
        request = self._request(event.phone)
        body = normalize(event.text or event.payload or "").strip()
        try:
            with self.herald.database.atomic():  # a savepoint: a failed command leaves the ingest intact
                answer = self._answer(event.phone, body, request, event.at)
        except HeraldError as exc:
            answer = refusal(exc)
        except Exception:
            log.exception("an admin command over WhatsApp failed")
            answer = Said(messages.unexpected_error())
        return [TextMessage(to=event.phone, body=part) for part in split(for_whatsapp(answer_text(answer)))]

    def _request(self, phone: str) -> Request:
        return Request(
            actor=Actor("whatsapp", mask_phone(phone)),
            admin=True,
            timezone=self.zones[phone],
            notify={"whatsapp": {"phone": phone}},
            admins_setting="WHATSAPP_ADMINS",
        )

    def _answer(self, phone: str, body: str, request: Request, sent_at: datetime) -> Answer | str:
        """What ``body``, sent by ``phone`` at ``sent_at`` (the message's own timestamp), answers.

        A YES counts only if it was sent after the question and within
        ``CONFIRM_WINDOW`` of it, by its own timestamp (and arrives within
        the window too): a late or redelivered YES, written before the
        question for something else, confirms nothing and leaves the
        question open. WhatsApp stamps whole seconds, so the question's time
        is cut to the second.
        """
        pending = AdminPending.get_or_none(AdminPending.phone == phone)
        if pending is not None:
            if body.lower() in YES:
                return self._yes(pending, request, sent_at)
            AdminPending.delete().where(AdminPending.phone == phone).execute()
            self._drop(pending, request)
            if not body or body.lower() in ("no", "n", "cancel", "stop"):
                return messages.cancelled_confirmation()
            # anything else cancels the waiting change, and is read as what it is
            return (
                messages.cancelled_confirmation() + "\n\n" + answer_text(self._command(phone, body, request))
            )
        if body.lower() in YES:
            return messages.nothing_to_confirm()
        if body.lower() == RESUME:  # the answer a circuit breaker's alert asks for
            return self.handler.resume_held(request)
        return self._command(phone, body, request)

    def _yes(self, pending: AdminPending, request: Request, sent_at: datetime) -> Answer | str:
        asked = pending.created_at.replace(microsecond=0)
        if sent_at < asked:
            return messages.yes_before_question(_clock(sent_at, request), _clock(asked, request))
        AdminPending.delete().where(AdminPending.phone == pending.phone).execute()
        if sent_at > pending.expires_at or self.herald.clock.now() >= pending.expires_at:
            self._drop(pending, request)
            return messages.confirmation_expired(int(CONFIRM_WINDOW.total_seconds() // 60))
        return self._carry_out(pending, request)

    def _command(self, phone: str, body: str, request: Request) -> Answer | str:
        """The command language or a plain-words request, read with this admin's last question."""
        memory = self.memories.get(phone)
        try:
            meant = interpret(
                body,
                now=self.herald.clock.now(),
                tz=request.timezone,
                vocabulary=self.handler.vocabulary(),
                previous=memory.previous,
            )
        except HeraldError as exc:
            return refusal(exc)
        memory.clear()
        if isinstance(meant, Confirm | Cancel):  # no change waits for this admin (it would be above)
            return (
                messages.nothing_to_confirm()
                if isinstance(meant, Confirm)
                else messages.cancelled_confirmation()
            )
        if not isinstance(meant, Question) and _waits_for_yes(meant):
            return self._ask_command(phone, meant, described=False)
        answer = self.handler.handle(meant, request)
        if isinstance(answer, Asked) and answer.question is not None:
            if answer.question.confirm:  # a change read from words, or a broadcast found by name
                return self._ask_command(phone, answer.question.choices[0], described=True)
            memory.previous = answer.question
        if isinstance(answer, BroadcastPreview) and answer.intent is not None:
            return self._ask(phone, answer)
        return answer

    def _ask(self, phone: str, preview: BroadcastPreview) -> str:
        now = self.herald.clock.now()
        self._wait_for_yes(
            phone,
            broadcast=preview.broadcast["id"],
            intent=str(preview.intent),
            seen=preview.fingerprint,
            now=now,
        )
        b = preview.broadcast
        when = b.get("scheduled_for") if preview.intent is Intent.CONFIRM else None
        return text.render(preview) + "\n\n" + messages.reply_yes(preview.preview.will_send, when)

    def _ask_command(self, phone: str, command: Command, *, described: bool) -> str:
        """A change that is not a broadcast (tag, opt out, enroll, cancel…): confirmed by YES too.

        It waits as its formal command, which any process reads back the same way.
        ``described``: the change was read from words, so it is also said in words.
        """
        now = self.herald.clock.now()
        written = formal(command)
        self._wait_for_yes(phone, command=written, now=now)
        ask = messages.reply_yes_to(grammar_messages.mask_numbers(written))
        return f"{describe(command)}?\n{ask}" if described else ask

    def _wait_for_yes(self, phone: str, *, now: datetime, **what: Any) -> None:
        """Remember what this admin is asked to confirm (one thing at a time per admin)."""
        AdminPending.delete().where(AdminPending.phone == phone).execute()
        AdminPending.create(phone=phone, expires_at=now + CONFIRM_WINDOW, created_at=now, **what)

    def _carry_out(self, pending: AdminPending, request: Request) -> Answer | str:
        if pending.command:
            return self.handler.run(pending.command, request)
        if pending.broadcast_id is None:
            return messages.nothing_to_confirm()
        intent = Intent(pending.intent) if pending.intent else Intent.CONFIRM
        answer = self.handler.confirm(pending.broadcast_id, request, intent, seen=pending.seen)
        if isinstance(answer, BroadcastPreview) and answer.intent is not None:  # changed since asked
            return self._ask(pending.phone, answer)
        return answer

    def _drop(self, pending: AdminPending, request: Request) -> None:
        if pending.broadcast_id is not None and pending.intent != str(Intent.SEND):
            self.handler.discard(pending.broadcast_id, request)


def _clock(moment: datetime, request: Request) -> str:
    """``09:41:07`` in the admin's own timezone."""
    return f"{moment.astimezone(ZoneInfo(request.timezone)):%H:%M:%S}"


def _waits_for_yes(command: Command) -> bool:
    """A formal change that is not previewed: it waits for a YES as its formal command. (A
    broadcast named in words is found first, then asked about.)
    """
    return needs_admin(command) and not previews(command) and not isinstance(command, BroadcastFind)


def answer_text(answer: Answer | str) -> str:
    return answer if isinstance(answer, str) else text.render(answer)


class WhatsAppNotifier:
    """Completion summaries and alerts for broadcasts an admin started over WhatsApp, to that admin."""

    def __init__(self, herald: Herald) -> None:
        self.herald = herald

    def _to(self, broadcast: Mapping[str, Any] | None) -> str | None:
        if not broadcast:
            return None
        return ((broadcast.get("notify") or {}).get("whatsapp") or {}).get("phone")

    def _send(self, phone: str, body: str) -> None:
        for part in split(for_whatsapp(body)):
            self.herald.sender.submit(self._deliver(TextMessage(to=phone, body=part)))

    async def _deliver(self, message: TextMessage) -> None:
        try:
            await self.herald.sender.api.send_text(message)
        except HeraldError as exc:  # outside the 24 h window, for one: the summary is lost, not the send
            log.warning("could not tell a WhatsApp admin: %s", exc.render())

    def broadcast_started(self, broadcast: views.Broadcast) -> None:
        return None

    def broadcast_progress(self, broadcast: views.Broadcast) -> None:
        return None

    def broadcast_completed(self, broadcast: views.Broadcast) -> None:
        phone = self._to(broadcast)
        if phone:
            title = messages.broadcast_title(broadcast["id"], broadcast["name"])
            lines = [f"*{title}*: {broadcast['status']}", *text.funnel_lines(broadcast["funnel"])]
            self._send(phone, "\n".join(lines))

    def alert(self, kind: str, message: str, broadcast: Mapping[str, Any] | None = None) -> None:
        phone = self._to(broadcast)
        if phone:
            text = messages.alert(message)
            if kind == alerts.BREAKER:
                text += "\n" + messages.reply_resume()
            self._send(phone, text)


def attach(herald: Herald) -> None:
    """Read admin messages as commands and report back to admins, when WHATSAPP_ADMINS is set."""
    if not herald.settings.whatsapp_admins:
        return
    herald.ingest.inbound_hooks.append(WhatsAppAdmin(herald))
    herald.notifier.add(WhatsAppNotifier(herald))


__all__ = ["WhatsAppAdmin", "WhatsAppNotifier", "attach", "split"]
