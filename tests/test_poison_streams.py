"""Streams of good webhook bodies with poison ones mixed in: the good apply, the poison are set aside.

A poison body is one the database can never apply: here, one naming a ledger row whose
updates the database refuses (a trigger, as a corrupt row or a constraint Herald cannot
meet would). Good bodies carry NUL characters, odd types and unknown items beside their
real statuses. Whatever the mix and order, every good body's statuses are applied at
once, every poison body ends in the quarantine after its five tries, and the inbox drains.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage import inbox
from storage.models import OutboundMessage, WebhookQuarantine
from tests.helpers import phones, refusing_updates, seed_contacts
from tests.live import Live

ROWS = 16
POISONED = 4  # the first rows' updates are refused
ODD = st.sampled_from(
    [
        {"id": "wamid.ODD\x00", "status": "delivered", "timestamp": "soon"},
        {"status": ["read"]},
        "x\x00y",
        12,
        None,
        {"id": "wamid.PLAYED", "status": "played", "timestamp": "1", "recipient_id": "1"},
    ]
)


@pytest.fixture
async def world(live: Live) -> AsyncIterator[tuple[list[Any], list[Any]]]:
    """A broadcast's sent messages, (poisoned, healthy): the poisoned rows' updates refused."""
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(ROWS)])
    await live.api.post("/api/broadcasts", {"template": "thank_you", "tags": ["vip"], "schedule": "now"})
    await live.settle()
    rows = live.herald.in_db(lambda: {m.wamid: m.id for m in OutboundMessage.select()})
    sent = sorted(live.cloud.accepted, key=lambda m: rows[m.wamid])
    with refusing_updates(live.herald, [rows[m.wamid] for m in sent[:POISONED]]):
        yield sent[:POISONED], sent[POISONED:]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_good_bodies_apply_and_poison_ones_end_quarantined(
    live: Live, world: tuple[list[Any], list[Any]], data: st.DataObject
) -> None:
    poisoned, healthy = world
    live.examples = getattr(live, "examples", 0) + 1  # type: ignore[attr-defined]
    at = live.clock.now() + timedelta(days=1) - timedelta(seconds=live.examples)  # type: ignore[attr-defined]
    webhooks = live.cloud.webhooks

    bodies: list[tuple[bool, list[str], bytes]] = []  # (poison?, healthy wamids, body)
    for _ in range(data.draw(st.integers(1, 6))):
        poison = data.draw(st.booleans())
        chosen = data.draw(st.lists(st.sampled_from(healthy), unique_by=lambda m: m.wamid, max_size=3))
        if poison:
            chosen = [data.draw(st.sampled_from(poisoned)), *chosen]
        statuses: list[Any] = [webhooks.status(m, "delivered", at=at) for m in chosen]
        for odd in data.draw(st.lists(ODD, max_size=2)):
            statuses.insert(data.draw(st.integers(0, len(statuses))), odd)
        body = orjson.loads(webhooks.body(statuses))
        good = [] if poison else [m.wamid for m in chosen]
        bodies.append((poison, good, orjson.dumps(body)))
    quarantined_before = live.herald.in_db(lambda: WebhookQuarantine.select().count())

    for _, _, body in bodies:
        assert await webhooks.post_webhook(live.webhook_url, body) == 200
    for _ in range(12):  # passes of the tick: each retries the failed bodies alone
        await live.tick()
        if live.herald.in_db(inbox.backlog, live.herald.database) == 0:
            break

    assert live.herald.in_db(inbox.backlog, live.herald.database) == 0
    quarantined = live.herald.in_db(lambda: WebhookQuarantine.select().count()) - quarantined_before
    assert quarantined == sum(poison for poison, _, _ in bodies)
    wanted = {w for _, good, _ in bodies for w in good}
    delivered = live.herald.in_db(
        lambda: {
            m.wamid: m.delivered_at for m in OutboundMessage.select().where(OutboundMessage.wamid.in_(wanted))
        }
    )
    assert set(delivered) == wanted
    assert all(moment == at.replace(microsecond=0) for moment in delivered.values())
