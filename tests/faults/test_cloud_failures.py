"""The Cloud API misbehaving on a fifth of the sends: every recipient still gets exactly one message.

A mix of 130429 (throttling), 131056 (pair rate), 131000, bare 502s from a
proxy, answers slower than the client's timeout, and connections dropped
after WhatsApp accepted the message. Accepted messages are echoed by status
webhooks as Meta does; the clock moves past the retry and reconciliation
waits. The fake's log must show one accepted send per recipient.
"""

from __future__ import annotations

import random

import pytest

from storage.models import OutboundMessage
from tests.helpers import phones, seed_contacts
from tests.live import Live

RECIPIENTS = 600


@pytest.fixture
def live_overrides() -> dict[str, float]:
    return {"whatsapp_timeout_seconds": 0.5}


async def test_a_fifth_of_sends_failing_in_every_way_still_reaches_everyone_once(live: Live) -> None:
    numbers = phones(RECIPIENTS)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    rng = random.Random(20261127)
    for number in rng.sample(numbers, k=RECIPIENTS // 10):  # 10 %: one of the transport failures
        kind = rng.choice(["drop", "truncate", "bare", "slow"])
        if kind in ("drop", "truncate"):
            live.cloud.drop(to=number, mode="close" if kind == "drop" else "truncate")
        elif kind == "bare":
            live.cloud.bare(502, to=number)
        else:
            live.cloud.delay(1.0, to=number)
    live.cloud.failure_mix(0.10, (130429, 131056, 131000), seed=7)  # 10 %: Graph errors

    status, b = await live.api.post(
        "/api/broadcasts", {"template": "thank_you", "tags": ["vip"], "schedule": "now"}
    )
    assert status == 201
    for _ in range(12):
        await live.settle()
        await live.cloud.webhooks.deliver_statuses(live.webhook_url, until="delivered", per_body=100)
        await live.eventually(lambda: True)
        live.cloud.failure_mix(0.10, (130429, 131056, 131000), seed=rng.randint(0, 10**6))
        live.clock.advance(minutes=11)  # past backoffs and the reconciliation wait
        funnel = (await live.api.get(f"/api/broadcasts/{b['id']}"))[1]["funnel"]
        if funnel["pending"] == 0:
            break
    live.cloud.failure_mix(0.0)
    await live.settle()

    assert live.sends_to() == dict.fromkeys(numbers, 1)
    funnel = (await live.api.get(f"/api/broadcasts/{b['id']}"))[1]["funnel"]
    assert (funnel["sent"], funnel["failed"], funnel["pending"]) == (RECIPIENTS, 0, 0)
    with live.herald.database.connection_context():
        retried = OutboundMessage.select().where(OutboundMessage.attempts > 1).count()
    assert retried >= RECIPIENTS // 10  # the failures really happened and were retried
