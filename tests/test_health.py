"""``/healthz`` says up or down per part and names nothing; ``/metrics`` takes METRICS_TOKEN when set."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient

from bot.container import build
from bot.web.app import create_app
from tests.conftest import API_TOKEN, make_settings, serve
from tests.sockets import exchange, head

METRICS_TOKEN = "metrics-token-51c2"


def _names(database_url: str) -> list[str]:
    """What a database URL would give away: its user, host, port, database name or file path."""
    parts = urlsplit(database_url)
    found = [parts.path.strip("/"), parts.path.rsplit("/", 1)[-1]]
    if parts.hostname:
        found += [parts.hostname, f":{parts.port}" if parts.port else ""]
    if parts.username:
        found.append(parts.username + "@")
    return [n for n in found if n]


async def test_healthz_says_up_per_part_and_names_no_host_user_path_or_database(
    client: TestClient, database_url: str
) -> None:
    async with client.get("/healthz") as answer:
        assert answer.status == 200
        text = await answer.text()
        health = await answer.json()
    assert health == {
        "status": "ok",
        "database": "up",
        "redis": health["redis"],
        "workers": health["workers"],
        "mode": health["mode"],
        "whatsapp": "sandbox",
        "slack": "off",
    }
    assert health["redis"] in ("up", "down")
    for name in _names(database_url):
        assert name not in text


async def test_healthz_says_down_without_the_errors_text(aiohttp_client: Any) -> None:
    dead = "postgresql://herald_user@127.0.0.1:9/herald_db"  # nothing listens on port 9
    herald = build(make_settings(dead), run_migrations=False, direct_only=True)
    try:
        client = await serve(aiohttp_client, create_app(herald), herald.settings)
        async with client.get("/healthz") as answer:
            assert answer.status == 503
            text = await answer.text()
            health = await answer.json()
        assert (health["status"], health["database"]) == ("down", "down")
        for name in [*_names(dead), "Operational", "connect"]:
            assert name not in text
    finally:
        herald.close()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"metrics_token": METRICS_TOKEN}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "authorization",
    [None, b"Bearer wrong", f"Bearer {API_TOKEN}".encode(), f"Bearer {METRICS_TOKEN}é".encode(), b"\xff"],
)
async def test_metrics_needs_the_metrics_token_when_it_is_set(
    client: TestClient, authorization: bytes | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    answer = await exchange(client, head("GET", "/metrics", headers))
    assert answer.status == 401
    assert answer.json()["error"]["code"] == "unauthorized"
    assert b"herald_http_requests" not in answer.body
    allowed = await exchange(client, head("GET", "/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"}))
    assert allowed.status == 200
    assert b"herald_http_requests_total" in allowed.body
