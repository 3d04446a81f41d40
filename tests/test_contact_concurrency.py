"""Contact writes under concurrency: an opt-out is never undone by an upsert that read before it.

An import chunk or an API upsert reads the contacts it writes, decides, and writes
them back; a STOP landing in between used to be overwritten on PostgreSQL (the
upsert wrote back ``opted_in`` as it had read it) and the contact was messaged
again. The rows a write decides on are now locked while it decides.
"""

from __future__ import annotations

import random
import threading

import peewee
import pytest

from bot.container import Herald
from engine.actor import API, Actor
from engine.contacts import ContactRow
from engine.errors import Conflict
from storage.models import Contact
from tests.helpers import phones, seed_contacts

N = 120
STOP = Actor("whatsapp", "the contact")  # who sends STOP


@pytest.mark.parametrize("seed", [1, 2])
def test_an_opt_out_racing_upserts_of_the_same_contacts_is_never_lost(herald: Herald, seed: int) -> None:
    numbers = phones(N)
    ids = seed_contacts(herald, [(p, ["vip"]) for p in numbers])
    database = herald.database
    rng = random.Random(seed)
    order = list(zip(ids, numbers, strict=True))
    rng.shuffle(order)
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def upserts() -> None:
        try:
            with database.connection_context():
                start.wait()
                for visit in range(3):
                    for i in range(0, N, 15):
                        rows = [
                            ContactRow(phone=p, attributes={"visits": visit}) for p in numbers[i : i + 15]
                        ]
                        _again(lambda r=rows: herald.contacts.write(r, source="import"))
        except BaseException as exc:
            errors.append(exc)

    def stops() -> None:
        try:
            with database.connection_context():
                start.wait()
                for contact_id, _ in order:
                    _again(
                        lambda c=contact_id: herald.contacts.set_opt_in(c, False, by=STOP, source="keyword")
                    )
        except BaseException as exc:
            errors.append(exc)

    def _again(work) -> None:  # type: ignore[no-untyped-def]
        for _ in range(50):
            try:
                work()
                return
            except peewee.OperationalError:  # a deadlock: the caller's transaction is retried
                continue
        raise AssertionError("a write failed 50 times")

    threads = [threading.Thread(target=upserts), threading.Thread(target=stops)]
    for t in threads:
        t.start()
    start.wait()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    with database.connection_context():
        contacts = list(Contact.select().where(Contact.id.in_(ids)))
        still_in = [c.id for c in contacts if c.opted_in]
        assert not still_in, f"{len(still_in)} of {N} opt-outs were undone by an upsert"
        assert {c.opt_out_source for c in contacts} == {"keyword"}
        assert {c.attributes["visits"] for c in contacts} == {2}
        with pytest.raises(Conflict):  # and only the contact can undo their STOP
            herald.contacts.set_opt_in(ids[0], True, by=API)
