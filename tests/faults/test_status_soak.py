"""Rounds of a broadcast whose every message gets sent, delivered and read as three webhooks.

Real processes on PostgreSQL and a private Redis: ``python -m bot serve`` (the
webhook receiver, applying what it stores), two ``python -m bot worker`` and
two ``python -m bot scheduler`` (whose ticks apply the inbox too, at the same
time). "Meta" (the fake Cloud API in this process) posts each accepted
message's ``sent``, ``delivered`` and ``read`` as separate signed webhooks,
50 ms apart, as Meta does, so two appliers often hold different statuses of
the same message at once. Every round's funnel must end whole: all sent,
delivered and read, nothing pending, nothing kept in ``pending_status``, the
inbox empty, and the fake's log one send per recipient. Before statuses were
merged in the database, such a run settled with reads and deliveries missing
and nothing logged (issue 21).

CI runs 3 rounds of 2,000 recipients; ``HERALD_SOAK_ROUNDS`` and
``HERALD_SOAK_RECIPIENTS`` scale it (RELIABILITY.md has 10 × 10,000).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.container import build
from storage import inbox
from storage.models import OutboundMessage, PendingStatus
from tests.conftest import API_TOKEN, _truncate_pg
from tests.fakes.behaviour import Accepted
from tests.fakes.cloud_api import APP_SECRET, FakeCloudApi
from tests.helpers import phones, seed_contacts
from tests.live import live_settings, process_env
from tests.services import PrivateRedis, free_port, terminate

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = int(os.environ.get("HERALD_SOAK_ROUNDS", "3"))
RECIPIENTS = int(os.environ.get("HERALD_SOAK_RECIPIENTS", "2000"))
GAP = 0.05  # seconds between a message's statuses
MPS = int(os.environ.get("HERALD_SOAK_MPS", "1000"))
POSTERS = 48  # webhook POSTs in flight at once
OFFSET = {
    "sent": timedelta(milliseconds=10),
    "delivered": timedelta(milliseconds=60),
    "read": timedelta(milliseconds=110),
}


class _Meta:
    """Posts sent, delivered and read for every message the fake accepts, one webhook each."""

    def __init__(self, cloud: FakeCloudApi, url: str) -> None:
        self.cloud = cloud
        self.url = url
        self.seen = 0
        self.posted = 0
        self.refused: list[int] = []
        self.gate = asyncio.Semaphore(POSTERS)
        self.tasks: set[asyncio.Task[None]] = set()
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=POSTERS))

    async def _post(self, body: bytes) -> None:
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": self.cloud.webhooks.signature(body),
        }
        async with self.gate, self.session.post(self.url, data=body, headers=headers) as answer:
            await answer.read()
            self.posted += 1
            if answer.status != 200:
                self.refused.append(answer.status)

    async def _lifecycle(self, message: Accepted) -> None:
        for status in ("sent", "delivered", "read"):
            at = message.at + OFFSET[status]
            body = self.cloud.webhooks.body([self.cloud.webhooks.status(message, status, at=at)])
            await self._post(body)
            await asyncio.sleep(GAP)

    async def run(self) -> None:
        while True:
            fresh = self.cloud.accepted[self.seen :]
            self.seen += len(fresh)
            for message in fresh:
                task = asyncio.create_task(self._lifecycle(message))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await self.session.close()


@asynccontextmanager
async def _herald_processes(env: dict[str, str], logs: Path) -> AsyncIterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> None:
        with (logs / f"{name}.log").open("wb") as log:
            started.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, stdout=log, stderr=log
                )
            )

    try:
        start("serve", "serve")
        start("worker-1", "worker", "--processes", "1")
        start("worker-2", "worker", "--processes", "1")
        start("scheduler-1", "scheduler")
        start("scheduler-2", "scheduler")  # safe to run two; their ticks apply the inbox as well
        yield started
    finally:
        terminate(started)


def _tails(logs: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted(logs.iterdir()))


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_every_round_with_three_statuses_a_message_settles_whole(
    pg_url: str, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    _truncate_pg(pg_url)
    logs = tmp_path / "logs"
    logs.mkdir()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with FakeCloudApi() as cloud:
        settings = live_settings(
            pg_url,
            cloud,
            redis_url=private_redis.url,
            queue_namespace="soak",
            whatsapp_mps=1000,
            worker_threads=4,
        )
        herald = build(settings, direct_only=True)
        env = process_env(
            settings,
            HOST="127.0.0.1",
            PORT=str(port),
            API_TOKEN=API_TOKEN,
            WHATSAPP_APP_SECRET=APP_SECRET,
            WHATSAPP_VERIFY_TOKEN="verify-me",
        )
        numbers = phones(RECIPIENTS)
        await asyncio.to_thread(seed_contacts, herald, [(p, ["vip"]) for p in numbers])
        meta = _Meta(cloud, f"{base}/webhooks/whatsapp")
        echo = asyncio.create_task(meta.run())
        auth = {"Authorization": f"Bearer {API_TOKEN}"}
        try:
            async with _herald_processes(env, logs) as processes, aiohttp.ClientSession(headers=auth) as api:
                await _until(lambda: _answers(base), 60, "serve to answer", processes, logs)
                async with api.post(f"{base}/api/templates/sync") as answer:
                    assert answer.status == 200, await answer.text()
                for round_no in range(1, ROUNDS + 1):
                    began, first = time.monotonic(), len(cloud.accepted)
                    spec = {
                        "name": f"soak {round_no}",
                        "template": "thank_you",
                        "tags": ["vip"],
                        "schedule": "now",
                    }
                    async with api.post(f"{base}/api/broadcasts", json=spec) as answer:
                        created = await answer.json()
                        assert answer.status == 201, created
                    url = f"{base}/api/broadcasts/{created['id']}"

                    async def whole(url: str = url) -> dict[str, Any] | None:
                        async with api.get(url) as answer:
                            view = await answer.json()
                        funnel = view["funnel"]
                        settled = herald.in_db(lambda: inbox.backlog(herald.database)) == 0
                        if view["status"] == "completed" and funnel["read"] == RECIPIENTS and settled:
                            return view
                        return None

                    view = await _until_async(
                        whole,
                        300,
                        f"round {round_no} to settle",
                        processes=processes,
                        logs=logs,
                        herald=herald,
                    )
                    funnel = view["funnel"]
                    took = time.monotonic() - began
                    print(f"round {round_no}: {RECIPIENTS:,} recipients × 3 statuses settled in {took:.1f} s")
                    assert (funnel["total"], funnel["sent"], funnel["delivered"], funnel["read"]) == (
                        4 * (RECIPIENTS,)
                    )
                    assert (funnel["failed"], funnel["pending"], funnel["skipped"]) == (0, 0, {})
                    sent = [m.to for m in cloud.accepted[first:]]
                    assert len(sent) == len(set(sent)) == RECIPIENTS  # each recipient exactly once
                    assert herald.in_db(lambda: PendingStatus.select().count()) == 0
                await _until(lambda: not meta.tasks, 60, "the last webhooks to go", processes, logs)
                assert meta.refused == [], meta.refused[:10]
                assert meta.posted == 3 * ROUNDS * RECIPIENTS
                # every row of every round, from the database itself
                bad = herald.in_db(
                    lambda: (
                        OutboundMessage.select()
                        .where(OutboundMessage.read_at.is_null() | OutboundMessage.delivered_at.is_null())
                        .count()
                    )
                )
                assert bad == 0
        finally:
            echo.cancel()
            with suppress(asyncio.CancelledError):
                await echo
            await meta.close()
            herald.close()
            herald.database.close_all()  # type: ignore[attr-defined]


def _answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=1):
            return True
    except OSError:
        return False


def _exited(processes: list[subprocess.Popen[bytes]], logs: Path) -> None:
    for p in processes:
        if p.poll() is not None:
            raise AssertionError(f"{p.args} exited with {p.returncode}\n{_tails(logs)}")


async def _until(check: Any, timeout: float, why: str, processes: Any, logs: Path) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(check):
        _exited(processes, logs)
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {why}\n{_tails(logs)}")
        await asyncio.sleep(0.1)


async def _until_async(
    check: Any, timeout: float, why: str, *, processes: Any, logs: Path, herald: Any
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        _exited(processes, logs)
        if time.monotonic() > deadline:
            rows = herald.in_db(
                lambda: {
                    "not read": OutboundMessage.select().where(OutboundMessage.read_at.is_null()).count(),
                    "pending statuses": PendingStatus.select().count(),
                    "inbox": inbox.backlog(herald.database),
                }
            )
            raise AssertionError(f"not within {timeout} s: {why}; {rows}\n{_tails(logs)}")
        await asyncio.sleep(0.25)
