"""Period numbers (the digest and /stats) and the digest's once-a-day claim, on both engines."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from playhouse.test_utils import count_queries

from bot.container import Herald
from engine import stats
from engine.actor import Actor
from storage import digests
from storage.fields import to_db_time
from storage.sql import insert_rows
from tests.helpers import phones, seed_contacts
from tests.live import Live

DAY = timedelta(days=1)


def _today(live: Live) -> tuple[datetime, datetime]:
    start = live.clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + DAY


async def _send(live: Live, template: str, tags: list[str]) -> dict[str, Any]:
    status, body = await live.api.post(
        "/api/broadcasts", {"template": template, "tags": tags, "schedule": "now"}
    )
    assert status == 201, body
    await live.settle()
    return body


def _enroll(herald: Herald, contact_ids: list[int], statuses: list[str], now: datetime) -> None:
    """Enrollment rows as the sequence engine writes them (sequences land separately)."""
    ts = to_db_time(now)

    def write() -> None:
        with herald.database.atomic():
            sid = insert_rows(
                herald.database,
                "sequence",
                ("name", "status", "version", "trigger_type", "created_at", "updated_at"),
                [("onboarding", "active", 1, "manual", ts, ts)],
                returning="id",
            )[0][0]
            vid = insert_rows(
                herald.database,
                "sequence_version",
                ("sequence_id", "version", "definition", "created_at"),
                [(sid, 1, '{"steps": []}', ts)],
                returning="id",
            )[0][0]
            insert_rows(
                herald.database,
                "enrollment",
                ("sequence_id", "version_id", "contact_id", "status", "source", "enrolled_at", "finished_at"),
                [
                    (sid, vid, cid, status, "manual", ts, ts if status != "active" else None)
                    for cid, status in zip(contact_ids, statuses, strict=True)
                ],
            )

    herald.in_db(write)


async def test_a_day_reports_sends_statuses_failures_skips_opt_outs_and_enrollments(live: Live) -> None:
    numbers = phones(6)
    ids = seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    live.cloud.fail(131026, to=numbers[0])
    first = await _send(live, "promo_autumn", ["vip"])
    # the first reached all but numbers[0], whose failure gave its cap back: the second reaches only them
    second = await _send(live, "last_chance", ["vip"])
    wamids = [m.wamid for m in live.cloud.accepted]
    await live.cloud.webhooks.deliver_statuses(live.webhook_url, wamids=wamids[:3])
    await live.eventually(lambda: stats.totals(live.herald.database, [_today(live)])[0].read == 3)
    live.herald.in_db(live.herald.contacts.set_opt_in, ids[5], False, by=Actor("slack", "U_ADMIN"))
    _enroll(live.herald, ids[:3], ["active", "completed", "exited"], live.clock.now())

    period = live.herald.in_db(stats.report, live.herald.database, *_today(live))
    totals = period.totals
    assert (totals.sent, totals.delivered, totals.read, totals.failed) == (6, 3, 3, 1)
    assert totals.failed_reasons == {"131026 Message undeliverable": 1}
    assert totals.skipped == {"frequency_cap": 5}
    assert totals.cap_skips == 5
    assert totals.opt_outs == 1
    assert (totals.enrolled, totals.completed, totals.exited) == (3, 1, 1)
    assert period.previous == stats.Totals()
    assert [b.id for b in period.broadcasts] == [first["id"], second["id"]]
    line = period.broadcasts[0]
    assert (line.template, line.total, line.sent, line.delivered, line.failed, line.pending) == (
        "promo_autumn",
        6,
        5,
        3,
        1,
        0,
    )
    assert (period.broadcasts[1].sent, period.broadcasts[1].skipped) == (1, 5)
    assert period.more_broadcasts == 0


async def test_yesterday_is_the_previous_period_of_today(live: Live) -> None:
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(4)])
    await _send(live, "thank_you", ["vip"])
    live.clock.advance(DAY)
    await _send(live, "thank_you", ["vip"])
    await _send(live, "promo_autumn", ["vip"])
    period = live.herald.in_db(stats.report, live.herald.database, *_today(live), lines=1)
    assert (period.totals.sent, period.previous.sent) == (8, 4)
    assert stats.change(period.totals.sent, period.previous.sent) == 1.0
    assert stats.change(3, 0) is None
    assert len(period.broadcasts) == 1
    assert period.more_broadcasts == 1


async def test_seven_days_are_counted_in_the_same_few_statements_as_one(live: Live) -> None:
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(2)])
    await _send(live, "thank_you", ["vip"])
    start, _ = _today(live)
    week = [(start + i * DAY, start + (i + 1) * DAY) for i in range(-6, 1)]

    def counted(windows: list[tuple[datetime, datetime]]) -> tuple[int, list[stats.Totals]]:
        with count_queries() as counter:
            result = stats.totals(live.herald.database, windows)
        return counter.count, result

    one, _ = live.herald.in_db(counted, week[-1:])
    seven, days = live.herald.in_db(counted, week)
    assert one == seven
    assert [d.sent for d in days] == [0, 0, 0, 0, 0, 0, 2]


def test_the_digest_of_a_day_is_claimed_once_among_concurrent_schedulers(herald: Herald) -> None:
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    barrier = threading.Barrier(6)
    wins: list[bool] = []

    def scheduler() -> None:
        barrier.wait()
        wins.append(
            herald.in_db(digests.claim, herald.database, "2026-11-30", "C1", now, timedelta(minutes=10))
        )

    threads = [threading.Thread(target=scheduler) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 5 + [True]


def test_an_unposted_claim_is_taken_over_after_its_lease_or_release(herald: Herald) -> None:
    lease = timedelta(minutes=10)
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

    def claim(at: datetime, channel: str = "C1") -> bool:
        return bool(herald.in_db(digests.claim, herald.database, "2026-11-30", channel, at, lease))

    assert claim(now)
    assert not claim(now + timedelta(minutes=5))
    assert claim(now + timedelta(minutes=11))  # the first claimant died
    herald.in_db(digests.release, herald.database, "2026-11-30", "C1")
    assert claim(now + timedelta(minutes=12))
    herald.in_db(digests.posted, herald.database, "2026-11-30", "C1", now)
    assert herald.in_db(digests.is_posted, herald.database, "2026-11-30", "C1")
    assert not claim(now + timedelta(hours=5))  # posted: never again
    assert claim(now, channel="C2")  # another channel has its own digest
