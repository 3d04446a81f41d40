"""The messaging limit (DESIGN §9.2): unique users templates may reach in a rolling 24 hours.

Meta sets it per business portfolio (250, 2,000, 10,000, 100,000 or unlimited). Herald
never sends into it: a send batch takes room only for contacts not reached in the
window (``storage.reach``), and rows beyond the room wait, ``held`` with the reason
``messaging_limit``, until the tick lets them go, oldest first, as room comes back.

The rules here are pure: ``window_start`` (which reaches still count), ``room``,
``schedule`` (when rows waiting for room would go, from the minutes that free up).
``Limits`` says what the limit is (``MESSAGING_LIMIT`` when set, else what Meta last
said, else not known: then nothing is held) and reads it from the Graph API.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import peewee

from engine.clock import Clock
from engine.whatsapp.webhook import limit_of
from storage import account, held
from storage import reach as store
from storage.states import HeldReason

log = logging.getLogger("herald.limit")

WINDOW = timedelta(hours=24)
READ_EVERY = timedelta(hours=1)  # the Graph API is asked this often (and on start, and at template sync)
HORIZON = timedelta(days=30)  # estimates stop here ("later than that")
RELEASE_CHUNK = 10_000  # held rows let go per tick pass, at most

OVERRIDE, META, UNKNOWN = "MESSAGING_LIMIT", "meta", "unknown"


@dataclass(frozen=True)
class Limit:
    value: int | None  # unique users a rolling 24 hours; None: unlimited, or not known
    source: str  # MESSAGING_LIMIT | meta | unknown

    @property
    def enforced(self) -> bool:
        return self.value is not None


def window_start(now: datetime) -> datetime:
    """The first minute whose reaches still count at ``now``: a reach counts until its whole
    minute is more than 24 hours old, so room comes back up to a minute late, never early."""
    return store.bucket_of(now - WINDOW)


def room(limit: int | None, used: int, waiting: int = 0) -> int | None:
    """New contacts that may be reached now (None: no limit), after ``waiting`` rows ahead."""
    if limit is None:
        return None
    return max(0, limit - used - waiting)


def _slots(
    limit: int, minutes: Sequence[tuple[datetime, int]], now: datetime
) -> Iterator[tuple[datetime, int]]:
    """(moment, n): room for ``n`` more new contacts from ``moment`` on, in time order.

    Room now, then each counted minute's reaches as the minute leaves the window; a
    contact reached from room that came back leaves the window 24 hours later in turn.
    """
    used = sum(n for _, n in minutes)
    frees: list[tuple[datetime, int]] = [(m + WINDOW + store.BUCKET, n) for m, n in minutes]
    heapq.heapify(frees)
    free_now = max(0, limit - used)
    if free_now:
        heapq.heappush(frees, (now, free_now))
    while frees:
        moment, n = heapq.heappop(frees)
        moment = max(moment, now)
        yield moment, n
        heapq.heappush(frees, (store.bucket_of(moment) + WINDOW + store.BUCKET, n))


def schedule(
    limit: int,
    minutes: Sequence[tuple[datetime, int]],
    now: datetime,
    *,
    skip: int,
    count: int,
    horizon: timedelta = HORIZON,
) -> list[tuple[datetime | None, int]]:
    """When ``count`` new contacts waiting behind ``skip`` others would go: (moment, n) groups in
    order, moment None for those beyond ``horizon``. ``minutes`` are the counted minutes."""
    groups: list[tuple[datetime | None, int]] = []
    if count <= 0:
        return groups
    end = now + horizon
    for moment, n in _slots(limit, minutes, now):
        if moment > end:
            break
        take = min(n - min(n, skip), count)
        skip -= min(n, skip)
        if take:
            groups.append((moment, take))
            count -= take
        if not count:
            return groups
    groups.append((None, count))
    return groups


def moments(groups: Sequence[tuple[datetime | None, int]]) -> list[datetime | None]:
    """One moment per row, from ``schedule``'s groups."""
    return [moment for moment, n in groups for _ in range(n)]


@dataclass(frozen=True)
class Fit:
    """How an audience fits the messaging limit (a preview's part)."""

    limit: int | None  # None: unlimited, or not known
    source: str  # MESSAGING_LIMIT | meta | unknown
    used: int  # unique contacts templates reached in the window
    fits_now: int  # of the audience: go at once
    later: int  # wait for room
    later_from: datetime | None  # when the first of those would go
    later_until: datetime | None  # when the last would (None: beyond the horizon)


@dataclass(frozen=True)
class Candidate:
    """A row about to be sent: its id, its contact, and whether the limit let it go (it was
    held for room, and is first in line)."""

    id: int
    contact_id: int
    let_go: bool = False


@dataclass
class Reservation:
    claims: list[store.Claim]  # the reach claimed, to hand back for rows that are not sent
    held: dict[int, datetime | None]  # rows that wait for room: id -> when they would go


def admit(
    candidates: Sequence[Candidate], reached: set[int], room_first: int, room_fresh: int
) -> tuple[list[Candidate], list[Candidate]]:
    """(admitted, held): a contact reached in the window takes no room (nor one already admitted
    here); rows the limit let go take ``room_first``; other rows may only take what is left
    once every waiting row is served (``room_fresh``), so nobody jumps the queue."""
    admitted: list[Candidate] = []
    waiting: list[Candidate] = []
    taken = set(reached)
    for c in sorted(candidates, key=lambda c: (not c.let_go, c.id)):
        if c.contact_id in taken:
            admitted.append(c)
        elif (room_first if c.let_go else room_fresh) > 0:
            room_first, room_fresh = room_first - 1, room_fresh - 1
            taken.add(c.contact_id)
            admitted.append(c)
        else:
            waiting.append(c)
    return admitted, waiting


class Limits:
    """The messaging limit in force, and its reads from the Graph API.

    ``read`` asks Meta for the phone number's ``whatsapp_business_manager_messaging_limit``
    (a tier such as ``TIER_2K``); None when there is no way to ask.
    """

    def __init__(
        self,
        database: peewee.Database,
        clock: Clock,
        *,
        override: tuple[bool, int | None] = (False, None),
        read: Callable[[], Any] | None = None,
    ) -> None:
        self.db = database
        self.clock = clock
        self.override = override
        self.read = read
        self._read_at: datetime | None = None

    def current(self) -> Limit:
        set_here, value = self.override
        if set_here:
            return Limit(value, OVERRIDE)
        stored = account.get(self.db, account.MESSAGING_LIMIT)
        if stored is None:
            return Limit(None, UNKNOWN)
        return Limit(None if stored.value is None else int(stored.value), META)

    def refresh(self) -> Limit | None:
        """Ask Meta now and keep what it says; None (logged) when it did not answer."""
        return self.keep(self.ask())

    def ask(self) -> Any:
        """What Meta says the limit is (a tier such as ``TIER_2K``), from any thread, with no
        database; None, logged, when there is no way to ask or Meta did not answer."""
        self._read_at = self.clock.now()
        if self.read is None:
            return None
        try:
            return self.read()
        except Exception as exc:  # Meta not answering is not a reason to stop anything
            log.warning("could not read the messaging limit from WhatsApp: %s", exc)
            return None

    def keep(self, raw: Any) -> Limit | None:
        """Store what ``ask`` answered (nothing for None)."""
        if raw is None:
            return None
        understood, value = limit_of(raw)
        if not understood:
            log.warning("WhatsApp answered a messaging limit Herald does not know: %r", raw)
            return None
        now = self.clock.now()
        with self.db.atomic():
            # kept with no report time: a webhook from Meta, however late, is applied over it, and
            # the next hourly read puts right a stale one
            if account.put(self.db, account.MESSAGING_LIMIT, value, None, now):
                log.info("messaging limit from WhatsApp: %s", "unlimited" if value is None else value)
        return Limit(value, META)

    def refresh_if_due(self) -> Limit | None:
        """The tick's job: ask Meta on the first pass and then every hour."""
        if self._read_at is not None and self.clock.now() - self._read_at < READ_EVERY:
            return None
        return self.refresh()

    def used(self) -> int:
        return store.used(self.db, window_start(self.clock.now()))

    def fit(self, will_send: int, reached: Callable[[datetime], int], at: datetime | None = None) -> Fit:
        """How ``will_send`` recipients fit the limit at ``at`` (now by default): how many go at
        once and when the rest would. ``reached(since)`` counts the recipients templates
        reached since that moment (they take no new room); asked only when it matters."""
        now = at or self.clock.now()
        limit = self.current()
        since = window_start(now)
        used = store.used(self.db, since)
        if limit.value is None:
            return Fit(None, limit.source, used, will_send, 0, None, None)
        waiting, let_go = held.held_counts(self.db, HeldReason.MESSAGING_LIMIT)
        free = room(limit.value, used + let_go, waiting) or 0
        if will_send <= free:
            return Fit(limit.value, limit.source, used, will_send, 0, None, None)
        new = max(0, will_send - reached(since))
        now_new = min(new, free)
        later = new - now_new
        groups = schedule(
            limit.value, store.minutes(self.db, since), now, skip=let_go + waiting + now_new, count=later
        )
        first, last = (groups[0][0], groups[-1][0]) if groups else (None, None)
        return Fit(limit.value, limit.source, used, will_send - later, later, first, last)

    # -- the send pipeline's part ------------------------------------------------------------

    def reserve(self, candidates: Sequence[Candidate], now: datetime) -> Reservation:
        """Claim the reach of the rows that go now; the others wait for room (one transaction).

        With no limit in force every row goes (its reach is still recorded: a limit
        learned later counts it).
        """
        limit = self.current()
        since = window_start(now)
        with self.db.atomic():
            if limit.value is None:
                return Reservation(store.claim(self.db, [c.contact_id for c in candidates], now, since), {})
            store.lock(self.db)
            used, waiting, let_go = store.facts(self.db, since, HeldReason.MESSAGING_LIMIT)
            let_go -= sum(c.let_go for c in candidates)  # those are in this batch
            room_first = max(0, limit.value - used - let_go)
            over: list[Candidate] = []
            if room_first - waiting >= len(candidates):  # room for all: who was reached does not matter
                admitted = list(candidates)
            else:
                reached = store.reached(self.db, [c.contact_id for c in candidates], since)
                admitted, over = admit(candidates, reached, room_first, room_first - waiting)
            claims = store.claim(self.db, [c.contact_id for c in admitted], now, since)
            until: dict[int, datetime | None] = {}
            if over:
                groups = schedule(
                    limit.value, store.minutes(self.db, since), now, skip=waiting, count=len(over)
                )
                until = dict(zip((c.id for c in over), moments(groups), strict=True))
        return Reservation(claims, until)

    def hand_back(self, claims: Sequence[tuple[int, datetime]], now: datetime) -> None:
        """Reach claimed for rows that were not sent (inside the caller's transaction)."""
        store.release(self.db, claims, window_start(now))

    # -- the tick's part -----------------------------------------------------------------

    def release(self) -> int:
        """Let rows held for room go back to the queue, oldest first, as far as the limit has room
        (all of them when no limit is in force any more). Returns how many went."""
        limit = self.current()
        now = self.clock.now()
        with self.db.atomic():
            if limit.value is None:
                return held.release_oldest(self.db, HeldReason.MESSAGING_LIMIT, RELEASE_CHUNK)
            if not held.held_counts(self.db, HeldReason.MESSAGING_LIMIT)[0]:
                return 0  # nothing waits: no need to take the lock every pass
            store.lock(self.db)
            waiting, let_go = held.held_counts(self.db, HeldReason.MESSAGING_LIMIT)
            free = max(0, limit.value - store.used(self.db, window_start(now)) - let_go)
            return held.release_oldest(self.db, HeldReason.MESSAGING_LIMIT, min(free, waiting, RELEASE_CHUNK))

    def forget(self) -> int:
        """Drop reach minutes no window reads any more (the tick's job)."""
        with self.db.atomic():
            return store.forget(self.db, window_start(self.clock.now()) - timedelta(hours=1))
