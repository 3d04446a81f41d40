"""Held drafts and chat confirmation: the engine rules the chat faces rely on, on both engines."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest

from bot.container import Herald
from engine.actor import Actor
from engine.broadcasts import BroadcastSpec
from engine.errors import Changed, Conflict
from engine.schedule import DRAFT, NOW, Schedule, at_local
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


def test_a_confirm_of_an_earlier_preview_raises_changed_and_moves_nothing(herald: Herald) -> None:
    broadcast_id = _held(herald)
    seen = herald.in_db(herald.broadcasts.shown, broadcast_id)[2]
    seed_contacts(herald, [(p, ["gold"]) for p in phones(2, start=50)])
    edited = BroadcastSpec(template="promo_autumn", tags=["gold"], schedule=NOW, hold=True)
    herald.in_db(herald.broadcasts.edit, broadcast_id, edited, by=ADMIN)
    with pytest.raises(Changed, match="changed after the preview"):
        herald.in_db(herald.broadcasts.confirm, broadcast_id, by=ADMIN, seen=seen)
    assert herald.in_db(lambda: Broadcast.get_by_id(broadcast_id).status) == "draft"
    assert herald.in_db(lambda: OutboundMessage.select().count()) == 0
    now_seen = herald.in_db(herald.broadcasts.shown, broadcast_id)[2]
    assert now_seen != seen
    assert (
        herald.in_db(herald.broadcasts.confirm, broadcast_id, by=ADMIN, seen=now_seen)["status"] == "sending"
    )
    assert herald.in_db(lambda: OutboundMessage.select().count()) == 2


def _race(herald: Herald, broadcast_id: int, seen: str) -> dict[str, str]:
    """A Confirm of the preview ``seen`` and an edit of its audience, started at once."""
    barrier = threading.Barrier(2)
    outcome: dict[str, str] = {}

    def confirm() -> None:
        barrier.wait()
        try:
            herald.in_db(herald.broadcasts.confirm, broadcast_id, by=ADMIN, seen=seen)
            outcome["confirm"] = "started"
        except Changed:
            outcome["confirm"] = "changed"

    def edit() -> None:
        spec = BroadcastSpec(template="promo_autumn", tags=["gold"], schedule=DRAFT)
        barrier.wait()
        try:
            herald.in_db(herald.broadcasts.edit, broadcast_id, spec, by=ADMIN)
            outcome["edit"] = "edited"
        except Conflict:
            outcome["edit"] = "refused"

    threads = [threading.Thread(target=confirm), threading.Thread(target=edit)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcome


def test_an_edit_racing_a_confirm_never_sends_what_was_not_previewed(herald: Herald) -> None:
    """The confirm reads the fingerprint under the row's lock: either it starts what was previewed
    (and the edit finds a broadcast that can no longer change) or the edit lands first and the
    confirm moves nothing."""
    seed_contacts(herald, [(p, ["gold"]) for p in phones(5, start=50)])
    for _ in range(6):
        broadcast_id = _held(herald)
        outcome = _race(herald, broadcast_id, herald.in_db(herald.broadcasts.shown, broadcast_id)[2])
        b = herald.in_db(Broadcast.get_by_id, broadcast_id)
        if outcome == {"confirm": "started", "edit": "refused"}:
            assert (b.tags, b.audience_total) == (["vip"], 3)
        else:
            assert outcome == {"confirm": "changed", "edit": "edited"}
            assert (b.status, b.tags, b.audience_total) == ("draft", ["gold"], None)


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
    herald.in_db(herald.contacts.set_opt_in, ids[0], False, by=ADMIN)
    herald.in_db(herald.contacts.delete, ids[1], by=ADMIN)
    reach = herald.in_db(herald.contacts.reachable, ["VIP", "nobody"])
    assert (reach.matched, reach.opted_out, reach.deleted, reach.reachable) == (4, 1, 1, 2)
    assert herald.in_db(herald.contacts.tag_names) == ["vip"]
