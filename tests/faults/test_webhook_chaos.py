"""Webhook deliveries duplicated, reordered, retried by Meta for the same batch, and late.

The funnel must end exactly where one clean delivery of each status would
put it, and never move backward on the way.
"""

from __future__ import annotations

import itertools
import random

from tests.helpers import phones, seed_contacts
from tests.live import Live

RECIPIENTS = 300


async def test_duplicated_reordered_and_retried_webhooks_give_the_clean_funnel(live: Live) -> None:
    seed_contacts(live.herald, [(p, ["vip"]) for p in phones(RECIPIENTS)])
    status, b = await live.api.post(
        "/api/broadcasts", {"template": "thank_you", "tags": ["vip"], "schedule": "now"}
    )
    assert status == 201
    await live.settle()
    rng = random.Random(11)
    accepted = list(live.cloud.accepted)
    failures = {m.wamid: rng.choice([131026, 131050, 131049]) for m in rng.sample(accepted, 20)}
    no_delivered = {m.wamid for m in rng.sample(accepted, 40)} - set(failures)
    statuses = []
    for message in accepted:
        statuses += live.cloud.webhooks.lifecycle(
            message,
            until="read",
            read_without_delivered=message.wamid in no_delivered,
            fail_code=failures.get(message.wamid),
        )
    statuses += rng.sample(statuses, len(statuses) // 3)  # duplicates
    rng.shuffle(statuses)  # any order
    bodies = [live.cloud.webhooks.body(statuses[i : i + 50]) for i in range(0, len(statuses), 50)]
    bodies += rng.sample(bodies, len(bodies) // 2)  # Meta retrying whole batches

    seen = []
    for body in bodies:
        assert await live.cloud.webhooks.post_webhook(live.webhook_url, body) == 200
        seen.append((await live.api.get(f"/api/broadcasts/{b['id']}"))[1]["funnel"])
    await live.settle()
    final = (await live.api.get(f"/api/broadcasts/{b['id']}"))[1]["funnel"]
    seen.append(final)

    clean = RECIPIENTS - len(failures)
    assert final["sent"] == RECIPIENTS
    assert final["failed"] == len(failures)
    assert final["delivered"] == clean  # read without delivered still counts as delivered
    assert final["read"] == clean
    assert sum(final["failed_reasons"].values()) == len(failures)
    for earlier, later in itertools.pairwise(seen):
        for key in ("sent", "delivered", "read", "failed"):
            assert later[key] >= earlier[key], (key, earlier, later)
