"""The durable webhook inbox: stored in one statement, taken by the transaction that applies it."""

from __future__ import annotations

from datetime import timedelta

import peewee
import pytest

from bot.container import Herald
from storage import inbox
from storage.database import is_postgres, open_database
from storage.fields import to_db_time
from storage.sql import execute, fetchall


def _bodies(n: int) -> list[bytes]:
    # quotes, backslashes, braces, commas and non-ASCII: what an array literal must carry intact
    text = '"a \\"quoted\\" \\\\ back,slash {x} é"'
    return [f'{{"n": {i}, "text": {text}}}'.encode() for i in range(n)]


def _stored(database: peewee.Database) -> list[tuple[int, str]]:
    return [(r[0], r[1]) for r in fetchall(database, "SELECT id, body FROM webhook_inbox ORDER BY id")]


def test_put_stores_every_body_intact_in_order_and_take_removes_the_oldest_first(herald: Herald) -> None:
    database = herald.database
    bodies = _bodies(1500)  # more than one execute_values page: still one statement on PostgreSQL
    now = herald.clock.now()
    with database.connection_context():
        inbox.put(database, bodies, now)
        stored = _stored(database)
        assert [b for _, b in stored] == [b.decode() for b in bodies]
        with database.atomic():
            first = inbox.take(database, now - timedelta(minutes=5), 1000)
        assert first == stored[:1000]
        with database.atomic():
            rest = inbox.take(database, now - timedelta(minutes=5), 1000)
        assert rest == stored[1000:]
        assert inbox.backlog(database) == 0


def test_a_taking_transaction_that_fails_leaves_its_bodies_for_the_next(herald: Herald) -> None:
    database = herald.database
    now = herald.clock.now()
    with database.connection_context():
        inbox.put(database, _bodies(3), now)
        stored = _stored(database)

        def take_then_fail() -> None:
            with database.atomic():
                assert inbox.take(database, now - timedelta(minutes=5), 10) == stored
                raise RuntimeError("the apply failed")

        with pytest.raises(RuntimeError):
            take_then_fail()
        assert _stored(database) == stored
        with database.atomic():
            assert inbox.take(database, now - timedelta(minutes=5), 10) == stored


def test_a_body_claimed_by_another_processor_waits_for_its_lease(herald: Herald) -> None:
    database = herald.database
    now = herald.clock.now()
    with database.connection_context():
        inbox.put(database, _bodies(2), now)
        stored = _stored(database)
        execute(
            database, "UPDATE webhook_inbox SET claimed_at = ? WHERE id = ?", [to_db_time(now), stored[0][0]]
        )
        with database.atomic():
            assert inbox.take(database, now - timedelta(minutes=5), 10) == stored[1:]
        with database.atomic():  # five minutes on, the claim has lapsed
            assert inbox.take(database, now + timedelta(seconds=1), 10) == stored[:1]


def test_concurrent_takers_on_postgresql_skip_each_others_bodies(herald: Herald) -> None:
    database = herald.database
    if not is_postgres(database):
        pytest.skip("SQLite has one writer at a time: its takers queue instead")
    now = herald.clock.now()
    other = open_database(herald.settings.database_url)
    try:
        with database.connection_context(), other.connection_context():
            inbox.put(database, _bodies(4), now)
            stored = _stored(database)
            with database.atomic():
                mine = inbox.take(database, now - timedelta(minutes=5), 2)
                with other.atomic():  # while the first transaction is open
                    theirs = inbox.take(other, now - timedelta(minutes=5), 10)
            assert (mine, theirs) == (stored[:2], stored[2:])
    finally:
        other.close_all()  # type: ignore[attr-defined]


def test_put_returns_the_ids_and_take_by_ids_takes_only_those_still_there(herald: Herald) -> None:
    database = herald.database
    now = herald.clock.now()
    lease = now - timedelta(minutes=5)
    with database.connection_context():
        ids = inbox.put(database, _bodies(6), now)
        stored = _stored(database)
        assert sorted(ids) == [i for i, _ in stored]
        with database.atomic():
            assert inbox.take(database, lease, 10, ids=[]) == []
            assert inbox.take(database, lease, 10, ids=[ids[4], ids[1]]) == [stored[1], stored[4]]
            assert inbox.take(database, lease, 10, ids=[ids[1], ids[4]]) == []  # gone: taken above
            assert inbox.take(database, lease, 2, ids=ids) == [stored[0], stored[2]]  # up to the limit
        execute(
            database, "UPDATE webhook_inbox SET claimed_at = ? WHERE id = ?", [to_db_time(now), stored[3][0]]
        )
        with database.atomic():
            assert inbox.take(database, lease, 10, ids=ids) == [stored[5]]  # the claimed one waits


def test_a_taker_by_ids_on_postgresql_skips_bodies_another_transaction_holds(herald: Herald) -> None:
    database = herald.database
    if not is_postgres(database):
        pytest.skip("SQLite has one writer at a time: its takers queue instead")
    now = herald.clock.now()
    lease = now - timedelta(minutes=5)
    other = open_database(herald.settings.database_url)
    try:
        with database.connection_context(), other.connection_context():
            ids = inbox.put(database, _bodies(3), now)
            stored = _stored(database)
            with database.atomic():
                assert inbox.take(database, lease, 1) == stored[:1]  # the oldest scan, still open
                with other.atomic():
                    assert inbox.take(other, lease, 10, ids=ids) == stored[1:]
    finally:
        other.close_all()  # type: ignore[attr-defined]
