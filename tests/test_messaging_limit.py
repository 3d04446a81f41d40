"""The messaging limit: rows beyond it wait, held, and go as the 24-hour window moves; SQLite and PostgreSQL.

Through the front door: contacts and broadcasts through the REST API, sends counted at the
fake Cloud API, the limit set by ``MESSAGING_LIMIT`` or read from the fake's Graph answer
and Meta's webhooks, time moved on the injected clock.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from storage.models import Enrollment, OutboundMessage
from tests.conftest import START
from tests.helpers import phones, seed_contacts
from tests.live import Live


@pytest.fixture
def live_overrides() -> dict[str, Any]:
    # one direct-processing thread: batches run one after the other, in the order dispatched
    return {"messaging_limit": 250, "worker_threads": 1}


def _iso(moment: Any) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def _broadcast(
    live: Live, tag: str, schedule: str = "now", template: str = "promo_autumn"
) -> dict[str, Any]:
    status, body = await live.api.post(
        "/api/broadcasts", {"template": template, "tags": [tag], "schedule": schedule}
    )
    assert status == 201, body
    return body


def _sent_to(live: Live, numbers: list[str]) -> list[str]:
    """Which of ``numbers`` the fake accepted a template for, sorted (sends are many in flight)."""
    wanted = set(numbers)
    return sorted(m.to for m in live.cloud.accepted if m.to in wanted)


async def test_a_broadcast_over_the_limit_sends_what_fits_and_the_rest_when_the_window_moves(
    live: Live,
) -> None:
    numbers = phones(400)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    draft = await _broadcast(live, "vip", schedule="draft")
    status, preview = await live.api.get(f"/api/broadcasts/{draft['id']}/preview")
    assert status == 200, preview
    assert preview["messaging_limit"] == {
        "limit": 250,
        "source": "MESSAGING_LIMIT",
        "used": 0,
        "fits_now": 250,
        "later": 150,
        "later_from": _iso(START + timedelta(hours=24, minutes=1)),
        "later_until": _iso(START + timedelta(hours=24, minutes=1)),
    }

    status, _ = await live.api.post(f"/api/broadcasts/{draft['id']}/send")
    assert status == 200
    await live.settle()
    assert len(_sent_to(live, numbers)) == 250  # exactly the limit, never into Meta's refusals
    assert live.sends_to() == dict.fromkeys(_sent_to(live, numbers), 1)
    status, got = await live.api.get(f"/api/broadcasts/{draft['id']}")
    assert got["status"] == "sending"
    funnel = got["funnel"]
    assert (funnel["sent"], funnel["pending"], funnel["held"]) == (250, 150, {"messaging_limit": 150})
    text = await (await live.client.get("/metrics")).text()
    assert 'herald_held_rows{reason="messaging_limit"} 150.0' in text
    assert "herald_messaging_limit 250.0" in text
    assert "herald_messaging_limit_used 250.0" in text

    live.clock.advance(hours=23, minutes=59)
    await live.settle()
    assert len(_sent_to(live, numbers)) == 250  # the first sends still count

    live.clock.advance(minutes=2)  # their minute is now more than 24 hours old
    await live.settle()
    assert live.sends_to() == dict.fromkeys(numbers, 1)  # the other 150, each once
    status, got = await live.api.get(f"/api/broadcasts/{draft['id']}")
    assert got["status"] == "completed"
    assert (got["funnel"]["sent"], got["funnel"]["held"]) == (400, {})


async def test_held_rows_go_oldest_first_as_room_comes_back_and_a_sequence_step_waits_its_turn(
    live: Live,
) -> None:
    early, later, newcomer = phones(100), phones(300, start=100), phones(1, start=400)[0]
    seed_contacts(live.herald, [(p, ["early"]) for p in early] + [(p, ["later"]) for p in later])
    await _broadcast(live, "early")
    await live.settle()
    live.clock.advance(minutes=10)
    second = await _broadcast(live, "later")
    await live.settle()
    sent_now = _sent_to(live, later)
    assert sent_now == later[:150]  # batches one at a time: the first 150 fit
    status, got = await live.api.get(f"/api/broadcasts/{second['id']}")
    assert got["funnel"]["held"] == {"messaging_limit": 150}

    # a drip step for a new contact competes for the same room: it waits, and so does its enrollment
    status, seq = await live.api.post(
        "/api/sequences",
        {
            "name": "hello",
            "trigger": {"type": "manual"},
            "steps": [{"id": "hi", "type": "message", "template": "thank_you"}],
        },
    )
    assert status == 201, seq
    await live.api.post(f"/api/sequences/{seq['id']}/activate")
    seed_contacts(live.herald, [(newcomer, ["new"])])
    status, enrolled = await live.api.post(
        "/api/sequences/enroll", {"sequence": "hello", "contact": newcomer}
    )
    assert status == 201, enrolled
    await live.settle()
    assert _sent_to(live, [newcomer]) == []
    with live.herald.database.connection_context():
        step = OutboundMessage.get(OutboundMessage.step_id == "hi")
        assert (step.state, step.held_reason) == ("held", "messaging_limit")
        assert Enrollment.get_by_id(enrolled["id"]).status == "active"

    # the first broadcast's minute leaves the window: 100 rows of room, the oldest held go first
    live.clock.advance(hours=23, minutes=51)
    await live.settle()
    assert _sent_to(live, later) == later[:250]
    assert _sent_to(live, [newcomer]) == []  # behind the 50 broadcast rows still waiting
    live.clock.advance(minutes=10)
    await live.settle()
    assert _sent_to(live, later) == later
    assert _sent_to(live, [newcomer]) == [newcomer]
    assert live.sends_to() == dict.fromkeys([*early, *later, newcomer], 1)
    with live.herald.database.connection_context():
        assert Enrollment.get_by_id(enrolled["id"]).status == "completed"


async def test_a_contact_reached_within_the_day_takes_no_new_room(live: Live) -> None:
    numbers = phones(300)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers[:200]] + [(p, ["gold"]) for p in numbers[200:]])
    await _broadcast(live, "vip", template="thank_you")
    await live.settle()
    # the same 200 again, and 100 new: 50 of the new fit, the 200 are already counted
    seed_contacts(live.herald, [(p, ["gold"]) for p in numbers[:200]])
    draft = await _broadcast(live, "gold", schedule="draft")
    _, preview = await live.api.get(f"/api/broadcasts/{draft['id']}/preview")
    limit = preview["messaging_limit"]
    assert (limit["used"], limit["fits_now"], limit["later"]) == (200, 250, 50)
