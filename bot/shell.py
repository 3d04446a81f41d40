"""``python -m bot shell``: the chat commands in a terminal, with the same answers as text.

Each line is read like a DM to Herald (the command language or a natural
phrasing, with the previous line in mind) by the same command layer as Slack.
A preview is followed by a y/N prompt: ``y`` confirms it, ``n`` (or nothing)
drops the draft (or, for ``broadcast send <id>``, leaves it as it was), and
anything else is read as a change to it ("make it 10am instead"). The person
at the terminal is an admin: they already hold the database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bot.container import Herald
from bot.faces import messages, text
from bot.faces.answers import Answer, BroadcastPreview, Intent, Said
from bot.faces.commands import CommandHandler
from bot.faces.conversation import Conversation, Memory
from bot.faces.requests import Request
from engine import views
from engine.actor import Actor

PROMPT = "herald> "
QUIT = frozenset({"quit", "exit", r"\q"})
YES = frozenset({"y", "yes"})
NO = frozenset({"", "n", "no"})

Read = Callable[[str], str | None]  # the prompt → a line, or None at the end of input
Write = Callable[[str], None]


class Shell:
    def __init__(self, herald: Herald, *, read: Read, write: Write, user: str) -> None:
        self.herald = herald
        self.read = read
        self.write = write
        self.handler = CommandHandler(herald)
        self.conversation = Conversation(self.handler)
        self.memory = Memory()
        self.request = Request(
            actor=Actor("shell", user),
            admin=True,
            timezone=herald.settings.timezone,
            notify={"shell": {"user": user}},
            admins_setting="the shell",
        )

    def run(self) -> int:
        self.write(messages.shell_banner(self.herald.settings.timezone))
        while True:
            line = self.read(PROMPT)
            if line is None or line.strip().lower() in QUIT:
                return 0
            if line.strip():
                self.say(line)

    def say(self, line: str) -> Answer:
        """Answer one line (and its y/N prompt); returns the last answer shown."""
        answer: Answer = self.herald.in_db(self.conversation.reply, line, self.memory, self.request)
        self.write(text.render(answer))
        if isinstance(answer, BroadcastPreview) and answer.intent is not None:
            answer = self._ask(answer)
            self.write(text.render(answer))
        return answer

    def _ask(self, preview: BroadcastPreview) -> Answer:
        b = preview.broadcast
        schedules = preview.intent is Intent.CONFIRM and b.get("scheduled_for")
        when = b["scheduled_for"] if schedules else None
        reply = (self.read(messages.confirm_question(preview.preview.will_send, when)) or "").strip()
        if reply.lower() not in YES | NO:  # "make it 10am instead": a change, previewed again
            return self.say(reply)
        self.memory.clear()
        if reply.lower() in YES:
            answer = self.herald.in_db(
                self.handler.confirm, b["id"], self.request, preview.intent, seen=preview.fingerprint
            )
            if isinstance(answer, BroadcastPreview) and answer.intent is not None:  # it changed: ask again
                self.write(text.render(answer))
                return self._ask(answer)
            return answer
        if preview.intent is Intent.SEND:
            return Said(messages.not_sent(b["id"]))
        return self.herald.in_db(self.handler.discard, b["id"], self.request)


class ShellNotifier:
    """Says in the terminal when a broadcast started from the shell finishes."""

    def __init__(self, write: Write) -> None:
        self.write = write

    def broadcast_started(self, broadcast: views.Broadcast) -> None:
        return None

    def broadcast_progress(self, broadcast: views.Broadcast) -> None:
        return None

    def broadcast_completed(self, broadcast: views.Broadcast) -> None:
        if "shell" in (broadcast.get("notify") or {}):
            title = messages.broadcast_title(broadcast["id"], broadcast["name"])
            lines = [f"{title}: {broadcast['status']}", *text.funnel_lines(broadcast["funnel"])]
            self.write("\n" + "\n".join(lines))

    def alert(self, kind: str, message: str, broadcast: Mapping[str, Any] | None = None) -> None:
        self.write("\n" + messages.alert(message))
