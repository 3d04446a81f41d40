"""The fake Cloud API itself: it refuses what Meta refuses, and runs standalone."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import aiohttp
import pytest

from engine.whatsapp.client import CloudApiClient
from engine.whatsapp.errors import DeliveryError
from engine.whatsapp.webhook import StatusEvent
from tests.fakes.cloud_api import PHONE_NUMBER_ID, TOKEN, FakeCloudApi, welcome_message
from tests.fakes.webhook_sink import WebhookSink

VALID: dict[str, Any] = {
    "messaging_product": "whatsapp",
    "recipient_type": "individual",
    "to": "+919812345678",
    "type": "template",
    "template": {
        "name": "welcome_offer",
        "language": {"code": "en"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Asha", "parameter_name": "first_name"}],
            }
        ],
    },
}


def without(key: str) -> dict[str, Any]:
    return {k: v for k, v in VALID.items() if k != key}


def template(**changes: Any) -> dict[str, Any]:
    return {**VALID, "template": {**VALID["template"], **changes}}


def body_parameters(*parameters: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "body", "parameters": list(parameters)}]


async def post(fake: FakeCloudApi, payload: Any, token: str | None = None) -> tuple[int, Any]:
    url = f"{fake.url}/v25.0/{fake.phone_number_id}/messages"
    headers = {"Authorization": f"Bearer {token or fake.token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=payload, headers=headers) as response,
    ):
        return response.status, await response.json()


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (without("messaging_product"), 100),
        ({**VALID, "messaging_product": "sms"}, 100),
        (without("to"), 131008),
        ({**VALID, "to": "919812345678"}, 100),
        (without("type"), 131008),
        ({**VALID, "type": "sticker"}, 131051),
        ({**VALID, "biz_opaque_callback_data": "x" * 513}, 100),
        (template(name=None), 131008),
        (template(language={}), 131008),
        (template(name="no_such_template"), 132001),
        (template(language={"code": "de"}), 132001),
        (template(components=[]), 132000),
        (template(components=body_parameters()), 132000),
        (template(components=body_parameters({"type": "text", "text": ""})), 131008),
        (
            template(
                components=body_parameters({"type": "text", "text": "A\nB", "parameter_name": "first_name"})
            ),
            132018,
        ),
        (template(components=body_parameters({"type": "text", "text": "Asha"})), 132018),
        (template(components={"type": "body"}), 100),
        ({**VALID, "type": "text", "text": {"body": "  "}}, 131008),
    ],
)
async def test_the_fake_refuses_what_meta_refuses(
    cloud_api: FakeCloudApi, payload: dict[str, Any], code: int
) -> None:
    status, answer = await post(cloud_api, payload)

    assert status == 400
    assert answer["error"]["code"] == code
    assert answer["error"]["message"].startswith(f"(#{code}) ")
    assert not cloud_api.accepted


async def test_the_fake_accepts_a_valid_send_and_answers_like_meta(cloud_api: FakeCloudApi) -> None:
    status, answer = await post(cloud_api, VALID)

    assert status == 200
    assert answer["contacts"] == [{"input": "+919812345678", "wa_id": "919812345678"}]
    assert answer["messages"][0]["message_status"] == "accepted"
    assert cloud_api.requests[0].json == VALID


async def test_a_wrong_token_is_190_with_http_401(cloud_api: FakeCloudApi) -> None:
    status, answer = await post(cloud_api, VALID, token="nope")

    assert (status, answer["error"]["code"]) == (401, 190)


async def test_injected_failures_count_down_and_can_target_one_recipient(
    cloud_api: FakeCloudApi, cloud_client: CloudApiClient
) -> None:
    cloud_api.fail(131000, times=2)
    cloud_api.fail(131026, to="+447911123456", times=None)

    outcomes = []
    for to in ["+919812345678"] * 3 + ["+447911123456"] * 2:
        try:
            await cloud_client.send_template(welcome_message(to))
            outcomes.append("ok")
        except DeliveryError as exc:
            outcomes.append(str(exc.error_code))

    assert outcomes == ["131000", "131000", "ok", "131026", "131026"]
    cloud_api.clear()
    assert await cloud_client.send_template(welcome_message("+447911123456"))


async def test_a_failure_mix_refuses_about_its_share(cloud_api: FakeCloudApi) -> None:
    cloud_api.failure_mix(0.2, (131000, 130429), seed=5)

    # generous timeouts and 50 at a time: on a loaded machine a connect timeout is not the mix
    results: list[object] = []
    async with cloud_api.client(connect_timeout=30.0, read_timeout=30.0) as client:
        for _ in range(10):
            results += await asyncio.gather(
                *(client.send_template(welcome_message()) for _ in range(50)), return_exceptions=True
            )

    failures = [r for r in results if isinstance(r, DeliveryError)]
    assert 0.15 < len(failures) / 500 < 0.25
    assert {f.error_code for f in failures} == {131000, 130429}
    assert len(cloud_api.accepted) == 500 - len(failures)


async def test_stats_count_requests_and_cpu_time(
    cloud_api: FakeCloudApi, cloud_client: CloudApiClient
) -> None:
    await cloud_client.send_template(welcome_message())
    async with aiohttp.ClientSession() as session, session.get(f"{cloud_api.url}/stats") as r:
        stats = await r.json()

    assert stats["requests"] == 1
    assert stats["cpu_seconds"] > 0


async def test_duplicated_shuffled_statuses_echo_the_callback(
    cloud_api: FakeCloudApi, cloud_client: CloudApiClient, webhook_sink: WebhookSink
) -> None:
    wamids = [
        await cloud_client.send_template(welcome_message(f"+9198123456{i:02}", callback=str(i)))
        for i in range(10)
    ]

    await cloud_api.webhooks.deliver_statuses(
        webhook_sink.url,
        duplicates=0.5,
        shuffle=True,
        failures={wamids[0]: 131050},
        read_without_delivered=[wamids[1]],
        seed=2,
    )

    statuses = [e for e in webhook_sink.events if isinstance(e, StatusEvent)]
    assert len(statuses) > 1 + 2 + 8 * 3
    assert {(s.wamid, s.status) for s in statuses if s.wamid == wamids[1]} == {
        (wamids[1], "sent"),
        (wamids[1], "read"),
    }
    [failed] = {(s.status, s.errors[0].code) for s in statuses if s.wamid == wamids[0]}
    assert failed == ("failed", 131050)
    assert {s.callback for s in statuses} == {str(i) for i in range(10)}


async def test_the_fake_runs_standalone_with_stats() -> None:
    command = [sys.executable, "-m", "tests.fakes.cloud_api", "--port", "0"]
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        url = line.decode().split()[-1]
        client = CloudApiClient(
            base_url=url, api_version="v25.0", token=TOKEN, phone_number_id=PHONE_NUMBER_ID
        )
        async with client:
            assert await client.send_template(welcome_message())
        async with aiohttp.ClientSession() as session, session.get(f"{url}/stats") as r:
            assert (await r.json())["requests"] == 1
    finally:
        process.terminate()
        await process.wait()
