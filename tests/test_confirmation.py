"""Held drafts and chat confirmation: the engine rules the chat faces rely on, on both engines."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest

from bot.container import Herald
from engine.actor import Actor
from engine.broadcasts import BroadcastSpec
from engine.errors import Conflict
from engine.schedule import NOW, Schedule, at_local
from storage.models import AuditLog, Broadcast, OutboundMessage
from tests.helpers import phones, seed_contacts, seed_templates

ADMIN = Actor("slack", "U_ADMIN")


def _held(herald: Herald, schedule: Schedule = NOW) -> int:
    seed_templates(herald)
    seed_contacts(herald, [(p, ["vip"]) for p in phones(3)])
    spec = BroadcastSpec(template="promo_autumn", tags=["vip"], schedule=schedule, hold=True)
    return int(herald.in_db(herald.broadcasts.create, spec, by=ADMIN)["id"])


def test_a_held_draft_with_a_time_is_scheduled_once_and_a_second_confirm_is_refused(
    herald: Herald,
) -> None:
    broadcast_id = _held(herald, at_local(datetime(2026, 11, 30, 9, 0), "UTC"))
    first = herald.in_db(herald.broadcasts.confirm, broadcast_id, by=ADMIN)
    assert first["status"] == "scheduled"
    with pytest.raises(Conflict, match="already confirmed: it is scheduled"):
        herald.in_db(herald.broadcasts.confirm, broadcast_id, by=ADMIN)
    assert herald.in_db(lambda: OutboundMessage.select().count()) == 0  # nothing started early


def test_two_confirms_at_once_start_a_broadcast_once(herald: Herald) -> None:
    broadcast_id = _held(herald)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def click() -> None:
        barrier.wait()
        try:
            herald.in_db(herald.broadcasts.confirm, broadcast_id, by=ADMIN)
            outcomes.append("started")
        except Conflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused", "started"]
    assert herald.in_db(lambda: OutboundMessage.select().count()) == 3


def test_discard_drops_a_draft_but_never_a_sending_broadcast(herald: Herald) -> None:
    dropped = _held(herald)
    assert herald.in_db(herald.broadcasts.discard, dropped, by=ADMIN)["status"] == "cancelled"
    sending = herald.in_db(
        herald.broadcasts.create,
        BroadcastSpec(template="promo_autumn", tags=["vip"], schedule=NOW, hold=True),
        by=ADMIN,
    )["id"]
    herald.in_db(herald.broadcasts.confirm, sending, by=ADMIN)
    with pytest.raises(Conflict):
        herald.in_db(herald.broadcasts.discard, sending, by=ADMIN)
    assert herald.in_db(lambda: Broadcast.get_by_id(sending).status) == "sending"
    actions = herald.in_db(lambda: [a.action for a in AuditLog.select().where(AuditLog.face == "slack")])
    assert "broadcast.discard" in actions


def test_remember_merges_a_face_note_into_notify(herald: Herald) -> None:
    seed_templates(herald)
    seed_contacts(herald, [(phones(1)[0], ["vip"])])
    spec = BroadcastSpec(
        template="promo_autumn", tags=["vip"], notify={"slack": {"channel": "C1"}, "other": {"x": 1}}
    )
    broadcast_id = herald.in_db(herald.broadcasts.create, spec, by=ADMIN)["id"]
    notify = herald.in_db(herald.broadcasts.remember, broadcast_id, "slack", {"ts": "1.2"})
    assert notify == {"slack": {"channel": "C1", "ts": "1.2"}, "other": {"x": 1}}
    assert herald.in_db(herald.broadcasts.get, broadcast_id)["notify"] == notify


def test_find_matches_template_or_name_within_a_window(herald: Herald) -> None:
    broadcast_id = _held(herald)
    herald.in_db(herald.broadcasts.confirm, broadcast_id, by=ADMIN)
    found = herald.in_db(herald.broadcasts.find, "PROMO_AUTUMN")
    assert [b["id"] for b in found] == [broadcast_id]
    now = herald.clock.now()
    assert herald.in_db(herald.broadcasts.find, "promo_autumn", since=now, until=now) == []


def test_reachable_counts_who_a_broadcast_to_the_tags_would_reach(herald: Herald) -> None:
    ids = seed_contacts(herald, [(p, ["vip"]) for p in phones(4)])
    herald.in_db(herald.contacts.set_opt_in, ids[0], False, source="slack")
    herald.in_db(herald.contacts.delete, ids[1])
    reach = herald.in_db(herald.contacts.reachable, ["VIP", "nobody"])
    assert (reach.matched, reach.opted_out, reach.deleted, reach.reachable) == (4, 1, 1, 2)
    assert herald.in_db(herald.contacts.tag_names) == ["vip"]
