"""Delivery state under concurrent writers: no status, time or outcome is ever carried back.

Appliers on their own connections apply shuffled, duplicated statuses of the same
messages at once while a worker's outcome write races the statuses that arrive by
callback id (the row still ``sending``, its wamid not yet recorded). Whatever the
interleaving, every row ends holding the earliest time of each status and the state
the property test expects. Before statuses were merged in the database, each applier
read the rows, merged in Python and wrote every column back, so on PostgreSQL the
second of two transactions put back what the first had just written (issue 21).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import peewee
import pytest

from bot.container import Herald
from engine.actor import SYSTEM
from engine.broadcasts import BroadcastSpec
from engine.schedule import NOW
from engine.statuses import apply_statuses, merge
from engine.whatsapp.webhook import StatusError, StatusEvent
from storage import ledger
from storage.fields import to_db_time
from storage.models import OutboundMessage
from storage.statuses import Delivery
from tests.helpers import phones, seed_contacts, seed_templates

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
SENT_AT = T0 - timedelta(seconds=1)  # the worker's outcome write: before every status
ROWS = 150
APPLIERS = 8
COPIES = 3  # each status reaches three appliers (Meta redelivers; several processes apply)
RETRY_131000 = (131000, "Something went wrong", "an earlier attempt")


def _retrying(database: peewee.Database, work: Callable[[], object]) -> None:
    """Run ``work`` in a transaction, again after a deadlock or lock wait (the inbox does)."""
    for _ in range(50):
        try:
            with database.atomic():
                work()
            return
        except peewee.OperationalError:
            time.sleep(random.uniform(0, 0.01))
    raise AssertionError("a transaction failed 50 times")


def _events(rows: list[tuple[int, bool]], rng: random.Random) -> list[StatusEvent]:
    """sent, delivered and read for every row, failed for some recorded ones, at random times."""
    out: list[StatusEvent] = []
    for row_id, recorded in rows:
        wamid = f"wamid.{row_id}"
        for status in ("sent", "delivered", "read"):
            at = T0 + timedelta(seconds=rng.randint(0, 600), microseconds=rng.randint(0, 999_999))
            out.append(StatusEvent(wamid, status, at, "+447911000000", str(row_id)))  # type: ignore[arg-type]
        if recorded and row_id % 5 == 0:
            code = rng.choice([131026, 131000, 131050])
            error = StatusError(code, f"error {code}", "")
            at = T0 + timedelta(seconds=rng.randint(0, 600))
            out.append(StatusEvent(wamid, "failed", at, "+447911000000", str(row_id), (error,)))
    return out


def _expected(recorded: bool, events: list[StatusEvent]) -> Delivery:
    start = Delivery(
        state="sent",
        wamid=events[0].wamid,
        accepted_at=SENT_AT,
        delivered_at=None,
        read_at=None,
        failed_at=None,
    )
    for e in events:
        start = merge(start, e)
    return start


def _prepare(herald: Herald) -> list[tuple[int, bool]]:
    """A broadcast's rows: even ones recorded as sent, odd ones still ``sending`` (claimed,
    their answer not written yet) carrying the error of an earlier attempt."""
    seed_templates(herald)
    seed_contacts(herald, [(p, ["vip"]) for p in phones(ROWS)])
    with herald.database.connection_context():
        b = herald.broadcasts.create(
            BroadcastSpec(template="order_update", tags=["vip"], schedule=NOW), by=SYSTEM
        )
        ids = [
            r.id
            for r in OutboundMessage.select(OutboundMessage.id).where(OutboundMessage.broadcast == b["id"])
        ]
        assert len(ids) == ROWS
        rows = [(row_id, i % 2 == 0) for i, row_id in enumerate(sorted(ids))]
        with herald.database.atomic():
            for row_id, recorded in rows:
                if recorded:
                    OutboundMessage.update(
                        state="sent", wamid=f"wamid.{row_id}", accepted_at=to_db_time(SENT_AT)
                    ).where(OutboundMessage.id == row_id).execute()
                else:
                    code, title, detail = RETRY_131000
                    OutboundMessage.update(
                        state="sending", batch="b1", error_code=code, error_title=title, error_detail=detail
                    ).where(OutboundMessage.id == row_id).execute()
    return rows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_concurrent_appliers_and_outcome_writes_lose_nothing(herald: Herald, seed: int) -> None:
    rng = random.Random(seed)
    rows = _prepare(herald)
    database = herald.database
    events = _events(rows, rng)
    shares: list[list[StatusEvent]] = [[] for _ in range(APPLIERS)]
    for event in events:
        for which in rng.sample(range(APPLIERS), COPIES):
            shares[which].append(event)
    for share in shares:
        rng.shuffle(share)
    racing = [row_id for row_id, recorded in rows if not recorded]
    rng.shuffle(racing)
    start = threading.Barrier(APPLIERS + 1)
    errors: list[BaseException] = []

    def applier(share: list[StatusEvent], local: random.Random) -> None:
        try:
            with database.connection_context():
                start.wait()
                while share:
                    size = local.randint(10, 60)
                    group, share[:size] = share[:size], []
                    _retrying(database, lambda g=group: apply_statuses(database, g, T0))
        except BaseException as exc:
            errors.append(exc)

    def worker() -> None:
        try:
            with database.connection_context():
                start.wait()
                for i in range(0, len(racing), 10):
                    outcomes = ledger.Outcomes()
                    outcomes.sent.extend(
                        ledger.Sent(row_id, f"wamid.{row_id}", SENT_AT) for row_id in racing[i : i + 10]
                    )
                    _retrying(database, lambda o=outcomes: ledger.record(database, o))
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=applier, args=(share, random.Random(seed * 100 + n)))
        for n, share in enumerate(shares)
    ]
    threads.append(threading.Thread(target=worker))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)

    by_row: dict[int, list[StatusEvent]] = {}
    for event in events:
        by_row.setdefault(int(event.callback or 0), []).append(event)
    wrong: list[str] = []
    with database.connection_context():
        got = {m.id: m for m in OutboundMessage.select().where(OutboundMessage.id.in_([r for r, _ in rows]))}
    for row_id, recorded in rows:
        want = _expected(recorded, by_row[row_id])
        m = got[row_id]
        have = Delivery(
            state=m.state,
            wamid=m.wamid,
            accepted_at=_utc(m.accepted_at),
            delivered_at=_utc(m.delivered_at),
            read_at=_utc(m.read_at),
            failed_at=_utc(m.failed_at),
            error_code=m.error_code,
            error_title=m.error_title,
            error_detail=m.error_detail,
        )
        if not recorded:
            # the outcome write and the first status race for the acceptance time: either is true
            earliest_status = min(e.at for e in by_row[row_id])
            if have.accepted_at in (SENT_AT, earliest_status):
                have = Delivery(**{**have.__dict__, "accepted_at": want.accepted_at})
        if have != want:
            fields = [f for f in want.__dict__ if getattr(have, f) != getattr(want, f)]
            wrong.append(
                f"row {row_id} ({'recorded' if recorded else 'racing its outcome'}): {', '.join(fields)}"
            )
    lost = [w for w in wrong if "_at" in w or "state" in w]
    assert not wrong, (
        f"{len(wrong)} of {ROWS} rows lost a write ({len(lost)} a time or a state): {(lost or wrong)[:6]}"
    )
    with database.connection_context():
        assert OutboundMessage.select().where(OutboundMessage.batch.is_null(False)).count() == 0


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None else None
