"""A simulated Cloud API in-process: the default sender when no token is configured.

It answers sends like Meta (a wamid, or the error Meta would give at once),
then emits the status webhooks Meta would post later (sent → delivered →
read, or failed with a realistic code) as real Meta-format JSON bodies handed
to ``deliver(body)``, so they travel the same path as real webhooks.

Time is the injected clock's. Each emission is queued with a due time;
``release_due()`` emits what is due now, so a test or the demo moves a
``ManualClock`` and releases, and ``start()`` runs a background task that
releases every ``interval`` seconds of real time for ``serve``. The same
seed and the same calls give the same wamids, outcomes and bodies.

Immediate refusals: ``to`` not in ``+digits`` form → 100; a number Herald's
phone rules reject → 131026; an unknown or unapproved template → 132001;
wrong parameters → 132000 / 132018; free text outside the 24 h window the
recipient opened → 131047. Later failures (statuses): numbers in
``unreachable`` → 131026; marketing to someone who stopped it → 131050; a
``failure_rate`` share of the rest, from ``failure_codes`` (131049/131050
only for MARKETING, as on WhatsApp).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import inspect
import logging
import random
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count
from typing import Any

import orjson

from engine.clock import Clock
from engine.errors import Invalid
from engine.phones import is_user_id, normalize_phone
from engine.whatsapp.errors import DeliveryError, classify
from engine.whatsapp.messages import TemplateMessage, TextMessage
from engine.whatsapp.samples import SAMPLE_TEMPLATES
from engine.whatsapp.simulate import (
    Catalogue,
    inbound_object,
    messages_value,
    new_wamid,
    status_object,
    webhook,
)
from engine.whatsapp.webhook import sign

__all__ = ["SAMPLE_TEMPLATES", "Deliver", "Sandbox", "Timing"]

log = logging.getLogger(__name__)

Deliver = Callable[[bytes], Awaitable[None] | None]

DEFAULT_FAILURE_CODES: Mapping[int, float] = {131026: 0.5, 131050: 0.25, 131049: 0.25}
MARKETING_ONLY_CODES = frozenset({131049, 131050})
WINDOW = timedelta(hours=24)
RETRY_DELAY = timedelta(minutes=1)
MAX_RETRY_AGE = timedelta(days=7)  # Meta gives up on an unacknowledged webhook after 7 days
_E164 = re.compile(r"\+[1-9]\d{6,14}")


@dataclass(frozen=True)
class Timing:
    """Seconds from acceptance to each status; ``spread`` staggers messages by up to that much."""

    sent: float = 1.0
    delivered: float = 3.0
    read: float = 30.0
    failed: float = 2.0
    spread: float = 2.0


@dataclass(order=True)
class _Pending:
    due: datetime
    seq: int
    field: str  # "statuses" | "messages" | "user_preferences"
    item: dict[str, Any]
    first_due: datetime
    contact: tuple[str, str] | None = None  # (phone, profile name) for inbound messages


SANDBOX_NUMBER = "100000000000001"  # the sandbox's business number id, unless one is configured


class Sandbox:
    """``CloudApi`` with no network. ``deliver`` may be set after construction."""

    def __init__(
        self,
        *,
        clock: Clock,
        deliver: Deliver | None = None,
        seed: int = 0,
        failure_rate: float = 0.05,
        failure_codes: Mapping[int, float] = DEFAULT_FAILURE_CODES,
        read_rate: float = 0.6,
        read_without_delivered_rate: float = 0.05,
        timing: Timing | None = None,
        templates: Iterable[Mapping[str, Any]] = SAMPLE_TEMPLATES,
        unreachable: Iterable[str] = (),
        app_secret: str | None = None,
        phone_number_id: str = SANDBOX_NUMBER,
        business_account_id: str = "200000000000001",
        display_phone_number: str = "15550001234",
        batch_size: int = 50,
        enforce_window: bool = True,
        messaging_limit: str = "TIER_UNLIMITED",
    ) -> None:
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError("failure_rate is a fraction between 0 and 1")
        self.clock = clock
        self.deliver = deliver
        self.failure_rate = failure_rate
        self.failure_codes = dict(failure_codes)
        self.read_rate = read_rate
        self.read_without_delivered_rate = read_without_delivered_rate
        self.timing = timing or Timing()
        self.catalogue = Catalogue(templates)
        self.unreachable = set(unreachable)
        self.app_secret = app_secret
        self.phone_number_id = phone_number_id
        self.business_account_id = business_account_id
        self.display_phone_number = display_phone_number
        self.batch_size = batch_size
        self.enforce_window = enforce_window
        self.messaging_limit_tier = messaging_limit  # what the phone number's limit reads as
        self.accepted = 0  # sends answered with a wamid (a count: serve runs for weeks)
        self._rng = random.Random(seed)
        self._queue: list[_Pending] = []
        self._seq = count()
        self._stopped_marketing: set[str] = set()
        self._window_opened: dict[str, datetime] = {}
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    # -- CloudApi ---------------------------------------------------------

    async def send_template(self, message: TemplateMessage) -> str:
        """Accept like Meta and queue the statuses; returns the wamid. Raises Permanent."""
        to = self._check_recipient(message.to, message.recipient)
        refusal = self.catalogue.check(
            {
                "name": message.template,
                "language": {"code": message.language},
                "components": message.components,
            }
        )
        if refusal is not None:
            raise _refused(refusal.code, refusal.message)
        template = self.catalogue.get(message.template, message.language) or {}
        category = str(template.get("category", "MARKETING")).upper()
        if message.to is None and category == "AUTHENTICATION":
            raise _refused(131062, "Business-scoped User ID recipients are not supported for this message.")
        wamid = new_wamid(to, self._rng)
        self.accepted += 1
        self._plan(wamid, to, message.callback or None, category)
        return wamid

    async def send_text(self, message: TextMessage) -> str:
        """Accept free text inside the recipient's 24 h window; returns the wamid.

        Raises Permanent (131047 outside the window, as on WhatsApp).
        """
        to = self._check_recipient(message.to, message.recipient)
        if not message.body.strip():
            raise _refused(131008, "The parameter text.body is required.")
        opened = self._window_opened.get(to)
        if self.enforce_window and (opened is None or self.clock.now() - opened > WINDOW):
            raise _refused(131047, "Re-engagement message")
        wamid = new_wamid(to, self._rng)
        self.accepted += 1
        self._plan(wamid, to, None, "SERVICE")
        return wamid

    async def templates(self) -> list[dict[str, Any]]:
        """The catalogue, as the Cloud API's template list returns it (copies)."""
        return orjson.loads(orjson.dumps(self.catalogue.templates))

    async def messaging_limit(self) -> str | None:
        """The business's messaging limit tier, as the Graph API names it (unlimited by default:
        the sandbox reaches nobody)."""
        return self.messaging_limit_tier

    async def close(self) -> None:
        """Stop the background task, if any. Pending events stay queued."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # -- simulated users -----------------------------------------------------

    def reply(
        self,
        phone: str,
        text: str,
        *,
        name: str = "",
        context: str | None = None,
        button_payload: str | None = None,
    ) -> str:
        """Queue an inbound message from ``phone`` (due now) and open its 24 h window.

        ``context`` is the wamid replied to; ``button_payload`` makes it a
        quick-reply tap whose label is ``text``. Returns the inbound wamid.
        """
        now = self.clock.now()
        wamid = new_wamid(phone, self._rng)
        item = inbound_object(wamid, phone, now, text=text, button_payload=button_payload, context=context)
        self._window_opened[phone] = now
        self._push(now, "messages", item, contact=(phone, name) if name else None)
        return wamid

    def set_marketing_preference(self, phone: str, value: str) -> None:
        """The user taps Stop or Resume on marketing in WhatsApp: queue the webhook (due now).

        After ``stop``, marketing sends to them are accepted and then fail with 131050.
        """
        if value not in ("stop", "resume"):
            raise ValueError("value is 'stop' or 'resume'")
        now = self.clock.now()
        (self._stopped_marketing.add if value == "stop" else self._stopped_marketing.discard)(phone)
        item = {
            "wa_id": phone.lstrip("+"),
            "detail": f"User requested to {value} marketing messages",
            "category": "marketing_messages",
            "value": value,
            "timestamp": int(now.timestamp()),
        }
        self._push(now, "user_preferences", item)

    # -- time ---------------------------------------------------------------

    @property
    def pending(self) -> int:
        """How many events are queued and not yet emitted."""
        return len(self._queue)

    def next_due(self) -> datetime | None:
        """When the earliest queued event is due, or None."""
        return self._queue[0].due if self._queue else None

    async def release_due(self) -> int:
        """Emit every event due at the clock's now; returns how many were emitted.

        Events stay queued while ``deliver`` is unset. A body whose delivery
        raises is queued again a minute later, as Meta retries (up to 7 days).
        """
        return await self._release(self.clock.now())

    async def flush(self) -> int:
        """Emit every queued event whatever its due time; returns how many."""
        return await self._release(None)

    def start(self, interval: float = 0.5) -> None:
        """Release due events every ``interval`` seconds of real time until ``close()``."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(interval))

    def signature(self, body: bytes) -> str | None:
        """The ``X-Hub-Signature-256`` Meta would send with ``body``, when an app secret is set."""
        return sign(body, self.app_secret) if self.app_secret else None

    # -- inside -------------------------------------------------------------

    def _check_recipient(self, to: str | None, recipient: str | None) -> str:
        """The phone (``to``) or, for a username user, the business-scoped user id."""
        if to is None:
            if recipient is None or not is_user_id(recipient):
                raise _refused(100, "Invalid parameter: 'recipient' must be a business-scoped user id")
            return recipient
        if not _E164.fullmatch(to or ""):
            raise _refused(100, "Invalid parameter: 'to' must be E.164 with a leading +")
        try:
            normalize_phone(to)
        except Invalid as exc:
            raise _refused(131026, "Message undeliverable") from exc
        return to

    def _plan(self, wamid: str, to: str, callback: str | None, category: str) -> None:
        rng, timing = self._rng, self.timing
        start = self.clock.now() + timedelta(seconds=rng.uniform(0, timing.spread))

        def at(seconds: float) -> datetime:
            return start + timedelta(seconds=seconds)

        def queue(status: str, seconds: float, code: int | None = None) -> None:
            item = status_object(
                wamid, status, at(seconds), to, callback=callback, code=code, category=category
            )
            self._push(at(seconds), "statuses", item)

        code = self._failure(to, category)
        if code is not None:
            queue("failed", timing.failed, code)
            return
        queue("sent", timing.sent)
        read = rng.random() < self.read_rate
        # Delivered and read at the same moment: Meta sends only "read".
        if not (read and rng.random() < self.read_without_delivered_rate):
            queue("delivered", timing.delivered)
        if read:
            queue("read", timing.read)

    def _failure(self, to: str, category: str) -> int | None:
        if to in self.unreachable:
            return 131026
        marketing = category == "MARKETING"
        if marketing and to in self._stopped_marketing:
            return 131050
        if self._rng.random() >= self.failure_rate:
            return None
        codes = [c for c in self.failure_codes if marketing or c not in MARKETING_ONLY_CODES]
        if not codes:
            return 131026
        weights = [self.failure_codes[c] for c in codes]
        return self._rng.choices(codes, weights)[0]

    def _push(
        self,
        due: datetime,
        field: str,
        item: dict[str, Any],
        *,
        first_due: datetime | None = None,
        contact: tuple[str, str] | None = None,
    ) -> None:
        pending = _Pending(due, next(self._seq), field, item, first_due or due, contact)
        heapq.heappush(self._queue, pending)

    async def _release(self, until: datetime | None) -> int:
        async with self._lock:
            if self.deliver is None:
                return 0
            due: list[_Pending] = []
            while self._queue and (until is None or self._queue[0].due <= until):
                due.append(heapq.heappop(self._queue))
            groups = self._bodies(due)
            emitted = 0
            for index, group in enumerate(groups):
                try:
                    delivered = await self._deliver(group)
                except BaseException:
                    # Cancelled mid-release (close()): keep what is not yet delivered.
                    for pending in (p for rest in groups[index:] for p in rest):
                        heapq.heappush(self._queue, pending)
                    raise
                emitted += len(group) if delivered else 0
            return emitted

    def _bodies(self, due: Sequence[_Pending]) -> list[list[_Pending]]:
        """Statuses batched up to ``batch_size`` per body; every other event alone."""
        groups: list[list[_Pending]] = []
        batch: list[_Pending] = []
        for pending in due:
            if pending.field != "statuses":
                groups.append([pending])
                continue
            batch.append(pending)
            if len(batch) >= self.batch_size:
                groups.append(batch)
                batch = []
        if batch:
            groups.append(batch)
        return groups

    async def _deliver(self, group: list[_Pending]) -> bool:
        body = self._body(group)
        assert self.deliver is not None
        try:
            result = self.deliver(body)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.warning("sandbox webhook delivery failed; retrying in a minute", exc_info=True)
            retry_at = self.clock.now() + RETRY_DELAY
            for pending in group:
                if retry_at - pending.first_due <= MAX_RETRY_AGE:
                    self._push(
                        retry_at,
                        pending.field,
                        pending.item,
                        first_due=pending.first_due,
                        contact=pending.contact,
                    )
            return False
        return True

    def _body(self, group: list[_Pending]) -> bytes:
        field = group[0].field
        if field == "user_preferences":
            value: dict[str, Any] = {
                "messaging_product": "whatsapp",
                "metadata": self._metadata(),
                "contacts": [{"wa_id": p.item["wa_id"]} for p in group],
                "user_preferences": [p.item for p in group],
            }
        else:
            value = messages_value(
                phone_number_id=self.phone_number_id,
                display_phone_number=self.display_phone_number,
                statuses=[p.item for p in group if p.field == "statuses"],
                messages=[p.item for p in group if p.field == "messages"],
                contacts=[p.contact for p in group if p.contact],
            )
        envelope = webhook(
            "user_preferences" if field == "user_preferences" else "messages",
            value,
            business_account_id=self.business_account_id,
            time=self.clock.now(),
        )
        return orjson.dumps(envelope)

    def _metadata(self) -> dict[str, str]:
        return {
            "display_phone_number": self.display_phone_number,
            "phone_number_id": self.phone_number_id,
        }

    async def _run(self, interval: float) -> None:
        while True:
            try:
                await self.release_due()
            except Exception:
                log.exception("sandbox release failed")
            await asyncio.sleep(interval)

    def __repr__(self) -> str:
        return f"Sandbox(pending={self.pending}, accepted={self.accepted})"


def _refused(code: int, message: str) -> DeliveryError:
    # Every immediate refusal above is Permanent; classify keeps one source of truth.
    error = classify(code)(message, code=code, http_status=400)
    log.debug("sandbox refused a send: %s", error.reason)
    return error
