"""Secrets and full phone numbers never reach the logs; replayed webhooks change nothing."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import configure_logging
from storage.models import InboundMessage, OutboundMessage
from tests.fakes.cloud_api import APP_SECRET, TOKEN
from tests.helpers import phones, seed_contacts
from tests.live import Live


@pytest.fixture
def captured(live: Live) -> Iterator[io.StringIO]:
    """Herald's own log handler (the one `serve` installs), writing to a buffer, at DEBUG."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging(live.herald.settings.model_copy(update={"log_level": "DEBUG"}), stream)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


async def test_secrets_and_full_phone_numbers_never_reach_the_logs(live: Live, captured: io.StringIO) -> None:
    numbers = phones(6)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    live.cloud.fail(131026, to=numbers[0])
    live.cloud.fail(190, to=numbers[1])  # credential errors log and alert
    status, _ = await live.api.post(
        "/api/broadcasts", {"template": "thank_you", "tags": ["vip"], "schedule": "now"}
    )
    assert status == 201
    await live.settle()
    await live.cloud.webhooks.post_inbound(live.webhook_url, numbers[2], "STOP please")
    await live.cloud.webhooks.post_webhook(live.webhook_url, b"{broken", signature="sha256=00")
    log = logging.getLogger("herald.test")
    log.warning("a careless line with %s and token %s", numbers[3], TOKEN)
    try:
        raise RuntimeError(f"failed for {numbers[4]} with secret {APP_SECRET}")
    except RuntimeError:
        log.exception("and a traceback")
    text = captured.getvalue()
    assert "careless line" in text  # the logs were captured
    for secret in (TOKEN, APP_SECRET, "test-api-token-7f3a", "verify-me"):
        assert secret not in text
    for number in numbers:
        assert number not in text
        assert number[1:] not in text


async def test_a_replayed_signed_delivery_changes_nothing(live: Live) -> None:
    numbers = phones(3)
    seed_contacts(live.herald, [(p, ["vip"]) for p in numbers])
    await live.api.post("/api/broadcasts", {"template": "thank_you", "tags": ["vip"], "schedule": "now"})
    await live.settle()
    captured = live.cloud.webhooks.body(
        [s for m in live.cloud.accepted for s in live.cloud.webhooks.lifecycle(m, until="read")]
    )
    assert await live.cloud.webhooks.post_webhook(live.webhook_url, captured) == 200
    await live.eventually(
        lambda: OutboundMessage.select().where(OutboundMessage.read_at.is_null(False)).count() == 3
    )

    def snapshot() -> list[tuple[object, ...]]:
        return sorted(
            (m.id, m.state, m.accepted_at, m.delivered_at, m.read_at, m.failed_at)
            for m in OutboundMessage.select()
        )

    before = live.herald.in_db(snapshot)
    for _ in range(3):  # an attacker (or Meta) replays the captured request
        assert await live.cloud.webhooks.post_webhook(live.webhook_url, captured) == 200
    await live.settle()
    assert live.herald.in_db(snapshot) == before
    assert live.herald.in_db(lambda: InboundMessage.select().count()) == 0
