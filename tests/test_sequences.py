"""Drip sequences end to end: definitions, triggers, enrollment, timers, branches, versions."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from playhouse.test_utils import count_queries

from bot.container import Herald
from engine.actor import SYSTEM
from engine.clock import ManualClock
from engine.errors import Conflict
from storage import ledger
from storage.models import Contact, Enrollment, OutboundMessage
from tests.helpers import ledger_orphans, phones, seed_contacts, seed_templates
from tests.live import Live

ONBOARDING: dict[str, Any] = {
    "name": "onboarding",
    "trigger": {"type": "tag_added", "tag": "new"},
    "steps": [
        {"id": "welcome", "type": "message", "template": "welcome_offer", "language": "en"},
        {"id": "wait", "type": "delay", "days": 3},
        {"id": "check", "type": "condition", "if": {"has_tag": "purchased"}, "yes": "thanks", "no": "nudge"},
        {"id": "thanks", "type": "message", "template": "thank_you", "next": None},
        {"id": "nudge", "type": "message", "template": "last_chance"},
        {"id": "settle", "type": "delay", "days": 4},
        {
            "id": "read_it",
            "type": "condition",
            "if": {"message": "nudge", "status": "read"},
            "yes": None,
            "no": "followup",
        },
        {
            "id": "followup",
            "type": "message",
            "template": "order_update",
            "params": ["{name}", "N/A", "waiting", "N/A"],
        },
    ],
}


async def _create(
    live: Live, definition: dict[str, Any] = ONBOARDING, *, activate: bool = True
) -> dict[str, Any]:
    status, body = await live.api.post("/api/sequences", definition)
    assert status == 201, body
    if activate:
        status, body = await live.api.post(f"/api/sequences/{body['id']}/activate")
        assert status == 200, body
    return body


def _templates_sent_to(live: Live) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for message in live.cloud.accepted:
        out.setdefault(message.to, []).append(message.template or message.type)
    return out


async def _days(
    live: Live,
    days: float,
    *,
    step: timedelta = timedelta(hours=12),
    settle: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Move the clock forward, ticking at every step, as a running scheduler would."""
    end = live.clock.now() + timedelta(days=days)
    while live.clock.now() < end:
        live.clock.advance(min(step, end - live.clock.now()))
        await (settle or live.settle)()


async def onboarding_takes_both_branches(
    live: Live, settle: Callable[[], Awaitable[None]] | None = None
) -> None:
    """ONBOARDING over seven days for a buyer and a browser, the clock moved and ``settle``
    (``live.settle`` unless given) run at every step: each branch, each message once."""
    settle = settle or live.settle
    buyer, browser = phones(2)
    seq = await _create(live)
    ids = seed_contacts(live.herald, [(buyer, []), (browser, [])])
    for contact_id in ids:
        status, _ = await live.api.post(f"/api/contacts/{contact_id}/tags", {"tags": ["new"]})
        assert status == 200
    await settle()
    assert _templates_sent_to(live) == {buyer: ["welcome_offer"], browser: ["welcome_offer"]}

    await _days(live, 1, settle=settle)
    await live.api.post(f"/api/contacts/{ids[0]}/tags", {"tags": ["purchased"]})
    await _days(live, 2, settle=settle)
    assert _templates_sent_to(live) == {
        buyer: ["welcome_offer", "thank_you"],
        browser: ["welcome_offer", "last_chance"],
    }
    # the browser reads nothing: after the 4-day wait and the 24 h status timeout, the follow-up goes
    await _days(live, 4, settle=settle)
    assert _templates_sent_to(live)[browser] == ["welcome_offer", "last_chance"]
    await _days(live, 1.5, settle=settle)
    assert _templates_sent_to(live)[browser] == ["welcome_offer", "last_chance", "order_update"]

    status, view = await live.api.get(f"/api/sequences/{seq['id']}")
    assert status == 200
    assert view["enrollments"] == {"enrolled": 2, "active": 0, "completed": 2, "exited": {}}
    steps = view["versions"][0]["steps"]
    assert steps["welcome"]["sent"] == 2
    assert steps["thanks"]["sent"] == 1
    assert steps["nudge"]["sent"] == 1
    assert steps["followup"]["sent"] == 1
    assert ledger_orphans(live.herald) == []


async def test_a_seven_day_sequence_takes_both_branches_on_a_moved_clock(live: Live) -> None:
    await onboarding_takes_both_branches(live)


async def test_a_read_status_takes_the_yes_path_as_soon_as_it_arrives(live: Live) -> None:
    reader = phones(1)[0]
    definition = copy.deepcopy(ONBOARDING)
    definition["steps"][1]["days"] = 1
    await _create(live, definition)
    seed_contacts(live.herald, [(reader, ["new"])])
    # the contact was tagged before the sequence existed: tag again through the API to trigger
    with live.herald.database.connection_context():
        contact_id = Contact.get(Contact.phone == reader).id
    await live.api.delete(f"/api/contacts/{contact_id}/tags/new")
    await live.api.post(f"/api/contacts/{contact_id}/tags", {"tags": ["new"]})
    await live.settle()
    await _days(live, 1.5)  # welcome, wait 1 day, no purchase: nudge
    nudge = [m for m in live.cloud.accepted if m.template == "last_chance"]
    assert len(nudge) == 1
    await _days(live, 4)  # the 4-day settle wait is over: now waiting for "read"
    statuses = live.cloud.webhooks.lifecycle(nudge[0], until="read")
    await live.cloud.webhooks.post_statuses(live.webhook_url, statuses)
    await live.eventually(lambda: OutboundMessage.get(OutboundMessage.step_id == "nudge").read_at is not None)
    await live.settle()  # the status woke the enrollment: no need to wait for the 24 h timeout
    with live.herald.database.connection_context():
        assert Enrollment.get().status == "completed"
    assert "order_update" not in _templates_sent_to(live)[reader]


async def test_duplicate_enrollment_is_refused_on_every_path(live: Live) -> None:
    seq = await _create(live)
    number = phones(1)[0]
    ids = seed_contacts(live.herald, [(number, [])])
    await live.api.post(f"/api/contacts/{ids[0]}/tags", {"tags": ["new"]})  # trigger
    status, body = await live.api.post("/api/sequences/enroll", {"sequence": "onboarding", "contact": number})
    assert status == 409
    assert "already enrolled in 'onboarding'" in body["error"]["message"]
    assert number not in body["error"]["message"]  # masked
    status, _ = await live.api.post("/api/sequences/enroll", {"sequence": seq["id"], "contact": ids[0]})
    assert status == 409
    with pytest.raises(Conflict):
        live.herald.in_db(live.herald.sequences.enroll, "onboarding", number, by=SYSTEM)
    await live.api.delete(f"/api/contacts/{ids[0]}/tags/new")
    await live.api.post(f"/api/contacts/{ids[0]}/tags", {"tags": ["new"]})  # the trigger fires again
    with live.herald.database.connection_context():
        assert Enrollment.select().count() == 1


async def test_manual_and_api_enrollment_for_a_manual_sequence(live: Live) -> None:
    manual = {**copy.deepcopy(ONBOARDING), "name": "winback", "trigger": {"type": "manual"}}
    await _create(live, manual)
    first, second, gone = phones(3)
    ids = seed_contacts(live.herald, [(first, []), (second, []), (gone, [])])
    await live.api.post(f"/api/contacts/{ids[2]}/optout")
    status, enrollment = await live.api.post(
        "/api/sequences/enroll", {"sequence": "winback", "contact": first}
    )
    assert status == 201
    assert (enrollment["sequence"], enrollment["version"], enrollment["status"]) == ("winback", 1, "active")
    view = live.herald.in_db(live.herald.sequences.enroll, "winback", ids[1], by=SYSTEM)
    assert view["current_step"] == "welcome"
    status, body = await live.api.post("/api/sequences/enroll", {"sequence": "winback", "contact": gone})
    assert status == 409
    assert "opted out" in body["error"]["message"]
    status, body = await live.api.post("/api/sequences/enroll", {"sequence": "winbak", "contact": first})
    assert status == 404
    assert "winback" in body["error"]["message"]
    await live.settle()
    assert len(live.cloud.accepted) == 2
    status, listed = await live.api.get(f"/api/contacts/{ids[0]}/enrollments")
    assert [e["sequence"] for e in listed["enrollments"]] == ["winback"]


async def test_opting_out_mid_sequence_ends_it(live: Live) -> None:
    await _create(live)
    ids = seed_contacts(live.herald, [(p, []) for p in phones(2)])
    for contact_id in ids:
        await live.api.post(f"/api/contacts/{contact_id}/tags", {"tags": ["new"]})
    await live.settle()
    await live.api.post(f"/api/contacts/{ids[0]}/optout")
    await live.api.delete(f"/api/contacts/{ids[1]}")
    await _days(live, 8)
    assert len(live.cloud.accepted) == 2  # only the two welcomes
    with live.herald.database.connection_context():
        reasons = sorted(e.exit_reason for e in Enrollment.select())
    assert reasons == ["deleted", "opted_out"]


async def test_a_new_version_leaves_enrolled_contacts_on_theirs(live: Live) -> None:
    seq = await _create(live)
    early, late = phones(2)
    ids = seed_contacts(live.herald, [(early, []), (late, [])])
    await live.api.post(f"/api/contacts/{ids[0]}/tags", {"tags": ["new"]})
    v2 = copy.deepcopy(ONBOARDING)
    v2["steps"][4]["template"] = "thank_you"  # the nudge changes in version 2
    status, edited = await live.api.call("PUT", f"/api/sequences/{seq['id']}", json=v2)
    assert status == 200
    assert edited["version"] == 2
    assert "1 contact(s) continue on the version they started with" in edited["note"]
    await live.api.post(f"/api/contacts/{ids[1]}/tags", {"tags": ["new"]})
    await live.settle()
    await _days(live, 3.5)
    sent = _templates_sent_to(live)
    assert sent[early] == ["welcome_offer", "last_chance"]  # version 1's nudge
    assert sent[late] == ["welcome_offer", "thank_you"]  # version 2's nudge
    _, view = await live.api.get(f"/api/sequences/{seq['id']}")
    assert [v["version"] for v in view["versions"]] == [1, 2]


async def test_a_capped_marketing_step_waits_for_the_cap_not_skipped(live: Live) -> None:
    number = phones(1)[0]
    ids = seed_contacts(live.herald, [(number, ["vip"])])
    status, _ = await live.api.post(
        "/api/broadcasts", {"template": "promo_autumn", "tags": ["vip"], "schedule": "now"}
    )
    assert status == 201
    await live.settle()
    await _create(live)
    live.clock.advance(hours=2)
    await live.api.post(f"/api/contacts/{ids[0]}/tags", {"tags": ["new"]})
    await live.settle()
    assert _templates_sent_to(live)[number] == ["promo_autumn"]  # welcome_offer is held by the cap
    with live.herald.database.connection_context():
        held = OutboundMessage.get(OutboundMessage.step_id == "welcome")
    assert held.state == "queued"
    assert held.skip_reason is None
    await _days(live, 1)  # the cap clears 24 h after the broadcast
    assert _templates_sent_to(live)[number] == ["promo_autumn", "welcome_offer"]


async def test_pause_holds_enrollments_and_resume_sends_nothing_twice(live: Live) -> None:
    seq = await _create(live)
    ids = seed_contacts(live.herald, [(p, []) for p in phones(3)])
    for contact_id in ids:
        await live.api.post(f"/api/contacts/{contact_id}/tags", {"tags": ["new"]})
    await live.settle()
    status, paused = await live.api.post(f"/api/sequences/{seq['id']}/pause")
    assert (status, paused["status"]) == (200, "paused")
    await _days(live, 4)
    assert len(live.cloud.accepted) == 3
    status, _ = await live.api.post(f"/api/sequences/{seq['id']}/pause")
    assert status == 409
    await live.api.post(f"/api/sequences/{seq['id']}/activate")
    await live.settle()
    assert len(live.cloud.accepted) == 6  # each got their next step, once
    assert all(len(t) == 2 for t in _templates_sent_to(live).values())


async def test_running_the_same_steps_twice_at_once_sends_once(live: Live) -> None:
    await _create(live)
    seed_contacts(live.herald, [(p, []) for p in phones(20)])
    with live.herald.database.connection_context():
        contact_ids = [c.id for c in Contact.select()]
    for contact_id in contact_ids:
        await live.api.post(f"/api/contacts/{contact_id}/tags", {"tags": ["new"]})
    with live.herald.database.connection_context():
        enrollment_ids = [e.id for e in Enrollment.select()]
    runner = live.herald.runner
    await asyncio.gather(
        *[asyncio.to_thread(live.herald.in_db, runner.run_steps, enrollment_ids) for _ in range(3)]
    )
    await live.settle()
    assert len(live.cloud.accepted) == 20
    with live.herald.database.connection_context():
        assert OutboundMessage.select().count() == 20


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        (lambda d: d["steps"][1].update(days=0), "steps[1] (wait)", "longer than zero"),
        (lambda d: d["steps"][1].update(days=400), "steps[1] (wait)", "at most 365 days"),
        (lambda d: d["steps"][2].update(yes="nowhere"), "steps.check.yes", "'nowhere'"),
        (lambda d: d["steps"][4].update(next="welcome"), "steps", "loop"),
        (lambda d: d["steps"][6]["if"].update(message="followup"), "steps.read_it.if", "comes later"),
        (lambda d: d["steps"][0].update(template="welcome_ofer"), "steps.welcome.template", "welcome_offer"),
        (lambda d: d.update(trigger={"type": "tag_added"}), "trigger", "names its tag"),
        (lambda d: d["steps"][0].update(colour="red"), "steps[0] (welcome).colour", "unknown field"),
        (lambda d: d["steps"][1].update(type="pause"), "steps[1] (wait)", "message, delay or condition"),
    ],
)
async def test_bad_definitions_name_the_exact_problem_and_create_nothing(
    live: Live, change: Any, field: str, says: str
) -> None:
    definition = copy.deepcopy(ONBOARDING)
    change(definition)
    status, body = await live.api.post("/api/sequences", definition)
    assert status == 422, body
    assert body["error"]["field"] == field
    assert says in body["error"]["message"]
    _, listed = await live.api.get("/api/sequences")
    assert listed["sequences"] == []


async def test_an_unapproved_template_is_refused_with_its_status(live: Live) -> None:
    live.herald.in_db(
        live.herald.templates.upsert,
        name="promo_winter",
        language="en",
        category="MARKETING",
        status="PENDING",
        components=[{"type": "BODY", "text": "Winter"}],
    )
    definition = copy.deepcopy(ONBOARDING)
    definition["steps"][0]["template"] = "promo_winter"
    status, body = await live.api.post("/api/sequences", definition)
    assert status == 422
    assert "PENDING" in body["error"]["message"]


async def test_a_wake_up_landing_while_a_job_decides_is_not_pushed_back_by_its_timer(live: Live) -> None:
    """A read arriving between a step job's load and its write: the job waits for the read until
    its timeout, but the wake-up the read made stands, so the branch is taken at once."""
    from storage import sequences as store

    definition = {
        "name": "read_check",
        "trigger": {"type": "manual"},
        "steps": [
            {
                "id": "hello",
                "type": "message",
                "template": "order_update",
                "params": ["{name}", "A", "B", "C"],
            },
            {
                "id": "check",
                "type": "condition",
                "if": {"message": "hello", "status": "read"},
                "yes": None,
                "no": "nudge",
            },
            {"id": "nudge", "type": "message", "template": "last_chance"},
        ],
    }
    seq = await _create(live, definition)
    (contact,) = seed_contacts(live.herald, [(phones(1)[0], [])])
    status, body = await live.api.post("/api/sequences/enroll", {"sequence": seq["id"], "contact": contact})
    assert status == 201, body
    await live.settle()  # hello is sent; the enrollment waits at check for the read (or its timeout)
    db, now = live.herald.database, live.clock.now()

    def race() -> tuple[object, object]:
        (row,) = store.load(db, [body["id"]])  # the job loads the enrollment ...
        timeout = now + timedelta(hours=24)
        store.wake(db, [row.id], now)  # ... a read lands and wakes it ...
        with db.atomic():  # ... and the job, not having seen the read, writes its wait
            store.apply_moves(
                db, [store.Move(row.id, "check", "check", now, timeout, "active", row.next_run_at)], now
            )
        woken = Enrollment.get_by_id(row.id).next_run_at
        (again,) = store.load(db, [row.id])  # without a wake-up the job's timer is written as is
        with db.atomic():
            store.apply_moves(
                db, [store.Move(row.id, "check", "check", now, timeout, "active", again.next_run_at)], now
            )
        return woken, Enrollment.get_by_id(row.id).next_run_at

    woken, plain = await asyncio.to_thread(live.herald.in_db, race)
    assert woken == now
    assert plain == now + timedelta(hours=24)


def test_steps_held_by_the_cap_wait_for_it_in_the_same_queries_whatever_the_batch(
    herald: Herald, clock: ManualClock
) -> None:
    seed_templates(herald)
    single = {"id": "promo", "type": "message", "template": "promo_autumn"}
    with herald.database.connection_context():
        herald.sequences.create(
            {"name": "promo", "trigger": {"type": "manual"}, "steps": [single]}, by=SYSTEM
        )
        herald.sequences.activate("promo", by=SYSTEM)
    claimed = clock.now() - timedelta(hours=1)
    counts = []
    for n, start in ((2, 0), (12, 100)):
        ids = seed_contacts(herald, [(p, []) for p in phones(n, start=start)])
        with herald.database.connection_context():
            Contact.update(last_marketing_at=claimed).where(Contact.id.in_(ids)).execute()
            enrolled = [herald.sequences.enroll("promo", i, by=SYSTEM)["id"] for i in ids]
            herald.runner.run_steps(enrolled)
            rows = [m.id for m in OutboundMessage.select().where(OutboundMessage.contact.in_(ids))]
            ledger.mark_dispatched(herald.database, rows, f"batch-{n}", clock.now())
            with count_queries() as queries:
                result = herald.pipeline.run_batch(f"batch-{n}", rows)
            held = list(OutboundMessage.select().where(OutboundMessage.id.in_(rows)))
        assert result.requeued == n
        assert {(m.state, m.skip_reason, m.next_attempt_at) for m in held} == {
            ("queued", None, claimed + timedelta(hours=24))  # when the cap clears, not skipped
        }
        counts.append(queries.count)
    assert counts[0] == counts[1]  # no query per held recipient
