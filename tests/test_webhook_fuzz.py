"""Notification bodies, generated: never a 5xx, and no well-formed item lost beside a bad one.

Each example is a WhatsApp Business Account notification holding real statuses for some
of a broadcast's messages, with generated junk mixed in at every level (odd items in
``statuses`` and ``messages``, odd changes and entries, NUL characters, odd types). It is
signed and posted to the running receiver: the answer is 200, and once applied every
real status is in the ledger. Each example's statuses are earlier than the previous
example's, so each must move every row it names (the ledger keeps the earliest time).
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.whatsapp.webhook import parse
from storage.models import OutboundMessage
from tests.helpers import phones, seed_contacts
from tests.live import Live
from tests.test_fuzz import JSON, SHAPED

ROWS = 12
NUL_TEXT = st.text(alphabet=st.sampled_from(["a", "\x00", "é", " ", "\u2028"]), max_size=8)
JUNK = SHAPED | JSON | NUL_TEXT | st.just({"id": "wamid.X\x00", "status": "delivered", "timestamp": "x"})


@st.composite
def notification(draw: st.DrawFn, good: list[dict[str, Any]]) -> dict[str, Any]:
    statuses: list[Any] = list(good)
    for junk in draw(st.lists(JUNK, max_size=4)):
        statuses.insert(draw(st.integers(0, len(statuses))), junk)
    messages = draw(st.lists(JUNK, max_size=3))
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "statuses": statuses,
    }
    if messages or draw(st.booleans()):
        value["messages"] = messages
    changes: list[Any] = [{"field": "messages", "value": value}]
    for junk in draw(st.lists(JUNK, max_size=2)):
        changes.insert(draw(st.integers(0, len(changes))), junk)
    entries: list[Any] = [{"id": "102290129340398", "changes": changes}]
    for junk in draw(st.lists(JUNK, max_size=2)):
        entries.insert(draw(st.integers(0, len(entries))), junk)
    return {"object": "whatsapp_business_account", "entry": entries}


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_parser_keeps_every_good_status_whatever_is_beside_it(data: st.DataObject) -> None:
    good = [
        {"id": f"wamid.G{i}", "status": "delivered", "timestamp": "1751142801", "recipient_id": "16505551234"}
        for i in range(data.draw(st.integers(0, 3)))
    ]
    body = data.draw(notification(good))
    events = parse(orjson.dumps(body))
    wamids = [getattr(e, "wamid", None) for e in events]
    assert [w for w in wamids if w and w.startswith("wamid.G")] == [g["id"] for g in good]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_a_signed_notification_is_never_a_5xx_and_its_good_statuses_are_applied(
    live: Live, data: st.DataObject
) -> None:
    if not live.cloud.accepted:  # once per world: a broadcast whose messages the statuses name
        seed_contacts(live.herald, [(p, ["vip"]) for p in phones(ROWS)])
        await live.api.post("/api/broadcasts", {"template": "thank_you", "tags": ["vip"], "schedule": "now"})
        await live.settle()
        live.examples = 0  # type: ignore[attr-defined]
    live.examples += 1  # type: ignore[attr-defined]
    at = live.clock.now() + timedelta(days=1) - timedelta(seconds=live.examples)  # type: ignore[attr-defined]
    chosen = data.draw(
        st.lists(st.sampled_from(live.cloud.accepted), unique_by=lambda m: m.wamid, max_size=4)
    )
    good = [live.cloud.webhooks.status(m, "delivered", at=at) for m in chosen]
    random.Random(live.examples).shuffle(good)  # type: ignore[attr-defined]
    body = orjson.dumps(data.draw(notification(good)))

    assert await live.cloud.webhooks.post_webhook(live.webhook_url, body) == 200
    await live.webhooks_applied()

    wanted = {m.wamid for m in chosen}

    def delivered() -> dict[str, Any]:
        rows = OutboundMessage.select().where(OutboundMessage.wamid.in_(wanted)) if wanted else []
        return {r.wamid: r.delivered_at for r in rows}

    assert delivered_at_least(live.herald.in_db(delivered), wanted, at)


def delivered_at_least(found: dict[str, Any], wanted: set[str], at: Any) -> bool:
    return set(found) == wanted and all(moment == at.replace(microsecond=0) for moment in found.values())
