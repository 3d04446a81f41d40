"""Broadcasts: audience, preview, lifecycle and scheduling, through the REST API on both engines."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from playhouse.test_utils import count_queries

from bot.container import Herald
from engine.clock import ManualClock
from storage import audience
from storage import contacts as contact_store
from storage.models import Broadcast, Contact, OutboundMessage
from tests.conftest import Api
from tests.fakes.notifier import RecordingNotifier
from tests.helpers import ledger_orphans, phones, seed_contacts, seed_templates


async def _audience(api: Api, herald: Herald) -> dict[str, int]:
    seed_templates(herald)
    ids = seed_contacts(
        herald,
        [
            ("+447911000001", ["vip"]),
            ("+447911000002", ["gold"]),
            ("+447911000003", ["vip", "gold"]),  # once, not twice
            ("+447911000004", ["other"]),
            ("+447911000005", ["vip"]),  # will opt out
            ("+447911000006", ["gold"]),  # will be deleted
            ("+447911000007", []),
        ],
    )
    await api.post(f"/api/contacts/{ids[4]}/optout")
    await api.delete(f"/api/contacts/{ids[5]}")
    return {"vip": ids[0], "gold": ids[1], "both": ids[2], "other": ids[3]}


async def test_or_targeting_skips_opted_out_and_deleted(api: Api, herald: Herald) -> None:
    people = await _audience(api, herald)
    status, b = await api.post(
        "/api/broadcasts",
        {"template": "promo_autumn", "tags": ["vip", "GOLD"], "schedule": "draft"},
    )
    assert status == 201
    assert b["status"] == "draft"
    assert b["tags"] == ["vip", "gold"]

    status, preview = await api.get(f"/api/broadcasts/{b['id']}/preview")
    assert status == 200
    assert preview["total"] == 3
    assert preview["waterfall"] == {
        "matched": 5,
        "opted_out": 1,
        "deleted": 1,
        "eligible": 3,
        "frequency_capped": 0,
        "will_send": 3,
    }
    assert [c["id"] for c in preview["sample"]] == [people["vip"], people["gold"], people["both"]]
    assert preview["sample"][0]["phone"] == "+447911000001"  # the API is not a chat: unmasked

    status, started = await api.post(f"/api/broadcasts/{b['id']}/send")
    assert status == 200
    assert started["status"] == "sending"
    assert started["audience_total"] == 3
    with herald.database.connection_context():
        ledger = sorted(m.contact_id for m in OutboundMessage.select())
    assert ledger == sorted([people["vip"], people["gold"], people["both"]])
    assert ledger_orphans(herald) == []
    assert started["funnel"]["total"] == 3
    assert started["funnel"]["pending"] == 3


async def test_audience_and_ledger_take_the_same_number_of_queries_for_any_size(
    herald: Herald,
) -> None:
    seed_templates(herald)
    counts = []
    for n, tag in ((5, "small"), (300, "large")):
        seed_contacts(herald, [(p, [tag]) for p in phones(n, start=n)])
        from engine.actor import SYSTEM
        from engine.broadcasts import BroadcastSpec

        with herald.database.connection_context():
            b = herald.broadcasts.create(BroadcastSpec(template="order_update", tags=[tag]), by=SYSTEM)
            with count_queries() as preview_q:
                preview = herald.broadcasts.preview(b["id"])
            with count_queries() as start_q:
                herald.broadcasts.start(b["id"], by=SYSTEM)
        assert preview.total == n
        counts.append((preview_q.count, start_q.count))
    assert counts[0] == counts[1]


async def test_preview_counts_the_frequency_cap_only_for_marketing(
    api: Api, herald: Herald, clock: ManualClock
) -> None:
    seed_templates(herald)
    ids = seed_contacts(herald, [(p, ["vip"]) for p in phones(4)])
    with herald.database.connection_context():
        Contact.update(last_marketing_at=clock.now() - timedelta(hours=2)).where(
            Contact.id.in_(ids[:2])
        ).execute()
        Contact.update(last_marketing_at=clock.now() - timedelta(hours=25)).where(
            Contact.id == ids[2]
        ).execute()
    _, promo = await api.post("/api/broadcasts", {"template": "promo_autumn", "tags": ["vip"]})
    _, preview = await api.get(f"/api/broadcasts/{promo['id']}/preview")
    assert (preview["total"], preview["capped"], preview["will_send"]) == (4, 2, 2)
    assert preview["estimated_seconds"] == round(2 / 80, 1)
    _, utility = await api.post("/api/broadcasts", {"template": "order_update", "tags": ["vip"]})
    _, preview = await api.get(f"/api/broadcasts/{utility['id']}/preview")
    assert (preview["capped"], preview["will_send"]) == (0, 4)


async def test_the_waterfall_counts_the_same_whatever_id_ranges_it_is_cut_into(
    herald: Herald, clock: ManualClock
) -> None:
    """PostgreSQL counts the waterfall range by range (``audience.WATERFALL_SPAN`` ids each);
    ranges of 1, 2, 3 and 7 ids must add up to the one-range count, whatever falls on their
    edges. SQLite counts in one range whatever the span."""
    seed_templates(herald)
    kinds = [["vip"], ["gold"], ["vip", "gold"], ["other"], []]
    ids = seed_contacts(herald, [(p, kinds[i % 5]) for i, p in enumerate(phones(23))])
    now = clock.now()
    with herald.database.connection_context():
        Contact.update(opted_in=False).where(Contact.id.in_(ids[1::4])).execute()
        Contact.update(status="deleted").where(Contact.id.in_(ids[2::6])).execute()
        Contact.update(last_marketing_at=now - timedelta(hours=1)).where(Contact.id.in_(ids[::3])).execute()
        tags = list(contact_store.tag_ids(herald.database, ["vip", "gold"]).values())
        people = list(Contact.select().where(Contact.id.in_(ids)))
        tagged = {ids[n] for n in range(23) if n % 5 < 3}  # vip, gold or both
        matched = [c for c in people if c.id in tagged]
        since = now - timedelta(hours=24)
        expected = audience.Waterfall(
            matched=len(matched),
            opted_out=sum(1 for c in matched if c.status == "active" and not c.opted_in),
            deleted=sum(1 for c in matched if c.status == "deleted"),
            capped=sum(
                1
                for c in matched
                if c.status == "active" and c.opted_in and c.last_marketing_at and c.last_marketing_at > since
            ),
        )
        assert min(expected) > 0  # every count is exercised
        for span in (1, 2, 3, 7, audience.WATERFALL_SPAN):
            assert audience.waterfall(herald.database, tags, since, span=span) == expected, span
        assert audience.waterfall(herald.database, tags, None, span=2) == expected._replace(capped=0)


async def test_bad_broadcasts_are_refused_with_the_reason_and_nothing_is_created(
    api: Api, herald: Herald
) -> None:
    await _audience(api, herald)
    cases = [
        ({"template": "promo_autum", "tags": ["vip"]}, "template", "promo_autumn"),
        ({"template": "promo_winter", "tags": ["vip"]}, "template", "PENDING"),
        ({"template": "promo_autumn", "tags": ["vipp"]}, "tags", "'vip'"),
        ({"template": "promo_autumn", "tags": []}, "tags", "tags"),
        (
            {"template": "promo_autumn", "tags": ["vip"], "schedule": "2026-11-29T09:00"},
            "schedule",
            "in the past",
        ),
        (
            {"template": "promo_autumn", "tags": ["vip"], "schedule": "tomorrow"},
            "schedule",
            "not a date",
        ),
        (
            {
                "template": "promo_autumn",
                "tags": ["vip"],
                "schedule": "2027-03-14T02:30",
                "timezone": "America/New_York",
            },
            "schedule",
            "does not exist",
        ),
        (
            {
                "template": "promo_autumn",
                "tags": ["vip"],
                "schedule": "2026-12-01T09:00",
                "timezone": "Asia/Calcutta2",
            },
            "timezone",
            "IANA",
        ),
        ({"template": "welcome_offer", "tags": ["vip"], "params": ["x"]}, "params", "named"),
    ]
    for body, field, says in cases:
        status, answer = await api.post("/api/broadcasts", body)
        assert status == 422, body
        assert answer["error"]["field"] == field, body
        assert says in answer["error"]["message"], (body, answer)
    with herald.database.connection_context():
        assert Broadcast.select().count() == 0


async def test_scheduled_time_is_echoed_with_its_zone_and_fires_on_a_moved_clock(
    api: Api, herald: Herald, clock: ManualClock
) -> None:
    await _audience(api, herald)
    # clock: Mon 30 Nov 2026 08:00 UTC
    status, b = await api.post(
        "/api/broadcasts",
        {
            "template": "promo_autumn",
            "tags": ["vip"],
            "schedule": "2026-12-01T09:00",
            "timezone": "Asia/Kolkata",
        },
    )
    assert status == 201
    assert b["status"] == "scheduled"
    assert b["scheduled_at"] == "2026-12-01T03:30:00Z"
    assert b["scheduled_for"] == "Tue 1 Dec 09:00 Asia/Kolkata (03:30 UTC)"

    with herald.database.connection_context():
        assert herald.broadcasts.due() == []
        clock.set(clock.now().replace(day=1, month=12, hour=3, minute=30))
        assert herald.broadcasts.due() == [b["id"]]
        assert herald.broadcasts.due() == []  # a second scheduler finds nothing to do
    _, now = await api.get(f"/api/broadcasts/{b['id']}")
    assert now["status"] == "sending"


async def test_a_schedule_missed_beyond_the_grace_is_reported_not_fired(
    api: Api, herald: Herald, clock: ManualClock
) -> None:
    await _audience(api, herald)
    notes = RecordingNotifier()
    herald.notifier.add(notes)
    _, late = await api.post(
        "/api/broadcasts",
        {"template": "promo_autumn", "tags": ["vip"], "schedule": "2026-11-30T08:30"},
    )
    _, missed = await api.post(
        "/api/broadcasts",
        {"template": "promo_autumn", "tags": ["vip"], "schedule": "2026-11-30T09:00"},
    )
    clock.advance(hours=3)  # 11:00: 2h30 and 2h late; the grace is 1 h
    _, ok = await api.post(
        "/api/broadcasts",
        {"template": "order_update", "tags": ["vip"], "schedule": "2026-11-30T11:30"},
    )
    clock.advance(minutes=45)  # 11:45: the third is 15 min late
    with herald.database.connection_context():
        assert herald.broadcasts.due() == [ok["id"]]
    for b in (late, missed):
        _, got = await api.get(f"/api/broadcasts/{b['id']}")
        assert got["status"] == "missed"
        assert "nothing was sent" in got["status_reason"]
        assert got["funnel"]["total"] == 0
    alerts = notes.of("alert")
    assert [a["kind"] for a in alerts] == ["missed", "missed"]
    assert "Mon 30 Nov 08:30 UTC" in alerts[0]["message"]


async def test_lifecycle_moves_refuse_what_the_state_does_not_allow(api: Api, herald: Herald) -> None:
    await _audience(api, herald)
    _, b = await api.post("/api/broadcasts", {"template": "promo_autumn", "tags": ["vip"]})
    status, body = await api.post(f"/api/broadcasts/{b['id']}/pause")
    assert status == 409
    assert "it is draft" in body["error"]["message"]
    status, _ = await api.post(f"/api/broadcasts/{b['id']}/send")
    assert status == 200
    status, body = await api.call(
        "PATCH", f"/api/broadcasts/{b['id']}", json={"template": "promo_autumn", "tags": ["gold"]}
    )
    assert status == 409
    status, paused = await api.post(f"/api/broadcasts/{b['id']}/pause")
    assert (status, paused["status"]) == (200, "paused")
    status, resumed = await api.post(f"/api/broadcasts/{b['id']}/resume")
    assert (status, resumed["status"]) == (200, "sending")
    status, cancelled = await api.post(f"/api/broadcasts/{b['id']}/cancel")
    assert (status, cancelled["status"]) == (200, "cancelled")
    assert cancelled["funnel"]["skipped"] == {"cancelled": 2}
    assert cancelled["funnel"]["pending"] == 0
    status, body = await api.post(f"/api/broadcasts/{b['id']}/cancel")
    assert status == 409
    assert "already cancelled" in body["error"]["message"]
    status, body = await api.post("/api/broadcasts/999/send")
    assert status == 404


async def test_two_clicks_at_once_start_a_broadcast_once(api: Api, herald: Herald) -> None:
    await _audience(api, herald)
    _, b = await api.post("/api/broadcasts", {"template": "promo_autumn", "tags": ["vip", "gold"]})
    results = await asyncio.gather(*[api.post(f"/api/broadcasts/{b['id']}/send") for _ in range(4)])
    assert sorted(status for status, _ in results) == [200, 409, 409, 409]
    with herald.database.connection_context():
        assert OutboundMessage.select().count() == 3


async def test_a_draft_can_be_edited_then_sent(api: Api, herald: Herald) -> None:
    await _audience(api, herald)
    _, b = await api.post("/api/broadcasts", {"template": "promo_autumn", "tags": ["vip"], "name": "Autumn"})
    status, edited = await api.call(
        "PATCH",
        f"/api/broadcasts/{b['id']}",
        json={
            "template": "order_update",
            "tags": ["gold"],
            "schedule": "2026-12-24T10:00",
            "timezone": "Europe/London",
        },
    )
    assert status == 200
    assert (edited["template"], edited["tags"], edited["status"], edited["name"]) == (
        "order_update",
        ["gold"],
        "scheduled",
        "Autumn",
    )
    assert edited["scheduled_for"] == "Thu 24 Dec 10:00 Europe/London (10:00 UTC)"
