"""Conversations: what someone says in a mention, a DM or the shell, read with the last turn in mind.

    Conversation(handler).reply(text, memory, request) -> Answer
    Memory      the last thing said (a Command or the Question Herald asked) and the
                held draft whose preview waits for a yes
    Memories    a face's Memory per conversation (a Slack thread), forgotten after a while

"send promo_autumn to vip tomorrow at 9" previews a held draft; "make it 10am
instead" changes that same draft and previews it again; "yes" confirms it,
"no" drops it. A question back ("who should get it?") is remembered so the
answer ("vip and gold") completes it. A change read from plain words ("tag
+91… as vip") is shown back and done on a "yes" from an admin.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from bot.faces import messages
from bot.faces.answers import Answer, Asked, BroadcastDone, BroadcastPreview, Refused, Said
from bot.faces.commands import CommandHandler
from bot.faces.requests import Request, refusal
from bot.grammar import BroadcastCreate, Cancel, Command, Confirm, Question, interpret
from engine.errors import HeraldError

MEMORY_SECONDS = 30 * 60


@dataclass
class Memory:
    previous: Command | Question | None = None
    pending: int | None = None  # the held draft whose preview waits for a yes
    seen: str | None = None  # that preview's fingerprint: a yes confirms what it showed
    ref: str | None = None  # where the face showed that preview (a Slack message ts)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # a chat face's whole turn (the answer, posting it, retiring the preview it replaces, and
    # noting where it went) runs under this, so a quick second message reads ``ref`` only
    # once the first turn has set it
    turn: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False, compare=False)

    def clear(self) -> None:
        self.previous, self.pending, self.seen, self.ref = None, None, None, None


class Memories:
    """Memory per conversation key, kept ``ttl`` seconds after its last use (monotonic time)."""

    def __init__(self, ttl: float = MEMORY_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._kept: dict[Hashable, tuple[float, Memory]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Memory:
        now = self.clock()
        with self._lock:
            for old in [k for k, (at, _) in self._kept.items() if now - at > self.ttl]:
                del self._kept[old]
            _, memory = self._kept.get(key, (now, Memory()))
            self._kept[key] = (now, memory)
            return memory

    def forget_pending(self, broadcast_id: int) -> None:
        """A preview was answered elsewhere (its button): no conversation waits for it any more."""
        with self._lock:
            for _, memory in self._kept.values():
                if memory.pending == broadcast_id:
                    memory.clear()


class Conversation:
    def __init__(self, handler: CommandHandler) -> None:
        self.handler = handler

    def reply(self, text: str, memory: Memory, request: Request) -> Answer:
        """What Herald answers to ``text`` in this conversation (and what it now remembers)."""
        with memory.lock:
            return self._reply(text, memory, request)

    def _reply(self, text: str, memory: Memory, request: Request) -> Answer:
        handler = self.handler
        try:
            meant = interpret(
                text,
                now=handler.herald.clock.now(),
                tz=request.timezone,
                vocabulary=handler.vocabulary(),
                previous=memory.previous,
            )
        except HeraldError as exc:
            return refusal(exc)
        if isinstance(meant, Question):
            answer = handler.handle(meant, request)
            if isinstance(answer, Asked):
                memory.previous = meant
            return answer
        if isinstance(meant, Confirm):
            if memory.pending is None:
                return Said(messages.nothing_to_confirm())
            answer = handler.confirm(memory.pending, request, seen=memory.seen)
        elif isinstance(meant, Cancel):
            if memory.pending is None:
                proposed = isinstance(memory.previous, Question) and memory.previous.confirm
                memory.clear()
                return Said(messages.left_as_is() if proposed else messages.dropped())
            answer = handler.discard(memory.pending, request)
        elif isinstance(meant, BroadcastCreate) and memory.pending is not None:
            answer = handler.revise(memory.pending, meant, request)
        else:
            answer = handler.handle(meant, request)
        self._remember(memory, meant, answer)
        return answer

    def _remember(self, memory: Memory, meant: Command, answer: Answer) -> None:
        if isinstance(answer, Refused):
            return  # the person can correct what they said: keep the context
        if isinstance(answer, BroadcastDone):
            memory.clear()
            return
        memory.previous = answer.question if isinstance(answer, Asked) and answer.question else meant
        if isinstance(answer, BroadcastPreview) and answer.intent is not None:
            memory.pending = int(answer.broadcast["id"])
            memory.seen = answer.fingerprint
