"""Shared fixtures: a database on each real engine, a composed Herald, and the running app."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import peewee
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.container import Herald, build
from bot.settings import Settings
from bot.web.app import create_app, server_options
from engine.clock import ManualClock
from storage.database import open_database
from storage.migrations import migrate

pytest_plugins = ["tests.live", "tests.services"]

PG_ADMIN_URL = os.environ.get("HERALD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
API_TOKEN = "test-api-token-7f3a"
START = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # a Monday


# Several checkouts (git worktrees) may run their suites against one server at once:
# each gets its own databases, named after where it lives.


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A private PostgreSQL database for this test process, migrated once, dropped at the end.

    Named per run and per xdist worker, so parallel runs on one machine never
    share one. PostgreSQL must answer: a missing server fails the run, it is
    never skipped.
    """
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", uuid.uuid4().hex)[:10]
    name = f"herald_test_{run}_{_worker()}"
    admin = open_database(PG_ADMIN_URL)
    with admin.connection_context():
        admin.execute_sql(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    database = open_database(url)
    migrate(database)
    database.close_all()  # type: ignore[attr-defined]
    yield url
    with admin.connection_context():
        admin.execute_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}"')
    admin.close_all()  # type: ignore[attr-defined]


def _truncate_pg(url: str) -> None:
    database = open_database(url)
    with database.connection_context():
        tables = [t for t in database.get_tables() if t != "schema_version"]
        if tables:
            database.execute_sql(
                "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
            )
    database.close_all()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A clean, migrated database on each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'herald.db'}"
    url = request.getfixturevalue("pg_url")
    _truncate_pg(url)
    return url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "api_token": API_TOKEN,
        "redis_url": "redis://127.0.0.1:6379/15",
        "timezone": "UTC",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change the settings of ``herald``."""
    return {}


@pytest.fixture
def herald(database_url: str, clock: ManualClock, settings_overrides: dict[str, Any]) -> Iterator[Herald]:
    composed = build(make_settings(database_url, **settings_overrides), clock=clock)
    yield composed
    composed.close()
    database = composed.database
    if isinstance(database, peewee.PostgresqlDatabase):
        database.close_all()  # type: ignore[attr-defined]


class Api:
    """The REST API through a real socket, authorised."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {API_TOKEN}"}

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        if isinstance(kwargs.get("data"), bytes) and len(kwargs["data"]) > 512 * 1024:
            kwargs["data"] = io.BytesIO(kwargs["data"])  # aiohttp warns on large raw bytes
        async with self.client.request(method, path, headers=headers, **kwargs) as response:
            body = (
                await response.json()
                if response.content_type == "application/json"
                else await response.text()
            )
            return response.status, body

    async def get(self, path: str, **kwargs: Any) -> tuple[int, Any]:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> tuple[int, Any]:
        if json is not None:
            kwargs["json"] = json
        return await self.call("POST", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> tuple[int, Any]:
        return await self.call("DELETE", path, **kwargs)


class ServedAsServe(TestServer):
    """A test server whose runner takes ``server_options``, as ``python -m bot serve``'s does (the
    header timeout, bodies inflated by Herald, handlers not cancelled when a client goes away).
    aiohttp's own TestServer drops the options it is given and cancels handlers."""

    def __init__(self, app: web.Application, settings: Settings) -> None:
        super().__init__(app)
        self.options = server_options(settings)

    async def _make_runner(self, **kwargs: Any) -> web.AppRunner:
        return web.AppRunner(self.app, **{**kwargs, **self.options})


async def serve(aiohttp_client: Any, app: web.Application, settings: Settings) -> TestClient:
    """``app`` behind a real socket, served as ``python -m bot serve`` serves it."""
    return await aiohttp_client(ServedAsServe(app, settings))


@pytest.fixture
async def client(herald: Herald, aiohttp_client: Any) -> TestClient:
    return await serve(aiohttp_client, create_app(herald), herald.settings)


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client)
