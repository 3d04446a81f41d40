"""A steady mixed load on a running Herald while a large broadcast is sending.

    python -m bench.load [--seconds 60] [--contacts 100000] [--db sqlite|postgres]

Three processes: the fakes (the Cloud API and Slack's Web API, answering
like the real ones), a real `python -m bot serve` (direct processing: it
sends the broadcast itself), and this driver. Once the broadcast is
sending, the driver keeps up, for ``--seconds``:

- slash commands (`/broadcast list`, `/stats today`), signed like Slack's, 2 a second;
- webhook status batches for messages already sent (sent, delivered and read
  for 34 messages: 102 statuses), at 3× the send rate, each started on time
  whether or not the last one was answered (as Meta does);
- REST calls (`GET /api/broadcasts/{id}`, `GET /api/contacts`), 10 a second;

and prints p50 / p99 latency per route, the worst slash-command ack (Slack
gives 3 s), the sends per second meanwhile, and the machine. It prints
figures and never asserts them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from urllib.parse import urlencode

import aiohttp
import orjson

from bench.databases import scratch_database
from bench.whatsapp import machine
from storage.database import open_database
from storage.migrations import migrate
from storage.sql import execute, insert_rows
from tests.services import free_port

SIGNING = "bench-signing-secret"
APP_SECRET = "bench-app-secret"
API_TOKEN = "bench-api-token"


# -- the fakes' process ------------------------------------------------------------------------


async def _host_fakes(cloud_port: int, slack_port: int) -> None:
    from tests.fakes.cloud_api import FakeCloudApi
    from tests.fakes.slack_api import FakeSlackApi

    cloud = FakeCloudApi(record=True)
    await cloud.start(port=cloud_port)
    slack = FakeSlackApi()
    await slack.start(port=slack_port)
    print("fakes ready", flush=True)
    await asyncio.Event().wait()


# -- set-up ---------------------------------------------------------------------------------------


def seed(url: str, contacts: int) -> None:
    database = open_database(url)
    migrate(database)
    now = datetime.now(UTC).replace(tzinfo=None)
    with database.connection_context(), database.atomic():
        insert_rows(
            database,
            "contact",
            ("phone", "name", "created_at", "updated_at"),
            [(f"+4479{i:08d}", f"Person {i}", now, now) for i in range(contacts)],
        )
        execute(database, "INSERT INTO tag (name, created_at) VALUES ('vip', ?)", [now])
        execute(
            database,
            "INSERT INTO contact_tag (contact_id, tag_id, created_at) SELECT id, 1, ? FROM contact",
            [now],
        )
    if hasattr(database, "close_all"):
        database.close_all()


@contextlib.contextmanager
def process(
    args: list[str], env: dict[str, str], ready: str | None = None
) -> Iterator[subprocess.Popen[str]]:
    child = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        if ready and child.stdout is not None:
            for line in child.stdout:
                if ready in line:
                    break
        yield child
    finally:
        child.terminate()
        child.wait(timeout=30)


def wait_http(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} never answered")


# -- the load ---------------------------------------------------------------------------------------


class Driver:
    def __init__(self, base: str, slack_base: str, db_url: str) -> None:
        self.base = base
        self.slack_base = slack_base
        self.db_url = db_url
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.session: aiohttp.ClientSession | None = None
        self.api = {"Authorization": f"Bearer {API_TOKEN}"}

    async def timed(self, route: str, method: str, url: str, **kwargs: object) -> bytes:
        assert self.session is not None
        started = time.perf_counter()
        async with self.session.request(method, url, **kwargs) as response:  # type: ignore[arg-type]
            body = await response.read()
            if response.status >= 400:
                self.errors[route] += 1
        self.latency[route].append(time.perf_counter() - started)
        return body

    def slash(self, line: str) -> tuple[bytes, dict[str, str]]:
        name, _, text = line.partition(" ")
        form = urlencode(
            {
                "command": name,
                "text": text,
                "user_id": "U0ADMIN",
                "user_name": "admin",
                "channel_id": "C0LOAD",
                "team_id": "T0HERALD",
                "response_url": f"{self.slack_base}/respond/load",
                "trigger_id": "1",
                "api_app_id": "A0HERALD",
            }
        ).encode()
        stamp = str(int(time.time()))
        digest = hmac.new(SIGNING.encode(), f"v0:{stamp}:".encode() + form, hashlib.sha256).hexdigest()
        headers = {
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        return form, headers

    def sent_wamids(self, after: int, limit: int) -> list[tuple[int, str]]:
        database = open_database(self.db_url)
        with database.connection_context():
            rows = execute(
                database,
                "SELECT id, wamid FROM outbound_message WHERE wamid IS NOT NULL AND id > ? ORDER BY id LIMIT ?",
                [after, limit],
            ).fetchall()
        if hasattr(database, "close_all"):
            database.close_all()
        return [(int(r[0]), str(r[1])) for r in rows]

    async def every(self, period: float, until: float, action: object) -> None:
        while time.monotonic() < until:
            started = time.monotonic()
            try:
                await action()  # type: ignore[operator]
            except aiohttp.ClientError:
                self.errors["connection"] += 1
            await asyncio.sleep(max(0.0, period - (time.monotonic() - started)))

    async def every_overlapping(self, period: float, until: float, action: object) -> None:
        """Start ``action`` every ``period`` without waiting for the last one, as Meta does."""
        running: set[asyncio.Task[None]] = set()

        async def guarded() -> None:
            try:
                await action()  # type: ignore[operator]
            except aiohttp.ClientError:
                self.errors["connection"] += 1

        while time.monotonic() < until:
            task = asyncio.create_task(guarded())
            running.add(task)
            task.add_done_callback(running.discard)
            await asyncio.sleep(period)
        await asyncio.gather(*running)

    async def run(self, seconds: float, broadcast_id: int, sends_per_second: float) -> None:
        self.session = aiohttp.ClientSession()
        until = time.monotonic() + seconds
        cursor = 0
        fetching = asyncio.Lock()

        def slash(line: str) -> Callable[[], Awaitable[bytes]]:
            def post() -> Awaitable[bytes]:
                body, headers = self.slash(line)
                route = "POST /slack/events (slash ack)"
                return self.timed(route, "POST", self.base + "/slack/events", data=body, headers=headers)

            return post

        async def statuses() -> None:
            nonlocal cursor
            from tests.fakes.status_webhooks import StatusWebhooks

            async with fetching:  # each batch reports on messages no other batch took
                rows = await asyncio.to_thread(self.sent_wamids, cursor, 34)
                if not rows:
                    return
                cursor = rows[-1][0]
            hooks = StatusWebhooks(
                accepted=[], phone_number_id="1", business_account_id="2", app_secret=APP_SECRET
            )
            stamp = str(int(time.time()))
            body = hooks.body(
                [  # Meta's three statuses per send: sent, delivered, read
                    {"id": w, "status": status, "timestamp": stamp, "recipient_id": "4479"}
                    for _, w in rows
                    for status in ("sent", "delivered", "read")
                ]
            )
            signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
            await self.timed(
                "POST /webhooks/whatsapp (102 statuses)",
                "POST",
                self.base + "/webhooks/whatsapp",
                data=body,
                headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"},
            )

        async def rest_broadcast() -> None:
            await self.timed(
                "GET /api/broadcasts/{id}",
                "GET",
                f"{self.base}/api/broadcasts/{broadcast_id}",
                headers=self.api,
            )

        async def rest_contacts() -> None:
            await self.timed(
                "GET /api/contacts", "GET", f"{self.base}/api/contacts?tag=vip&limit=50", headers=self.api
            )

        batch_period = 100 / max(1.0, 3 * sends_per_second)
        await asyncio.gather(
            self.every(1.0, until, slash("/broadcast list")),
            self.every(1.0, until, slash("/stats today")),
            self.every_overlapping(batch_period, until, statuses),
            self.every(0.2, until, rest_broadcast),
            self.every(0.2, until, rest_contacts),
        )
        await self.session.close()

    def report(self) -> list[str]:
        lines = []
        for route, samples in sorted(self.latency.items()):
            ordered = sorted(samples)
            p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
            lines.append(
                f"{route:<42} n={len(samples):>5}  p50 {statistics.median(samples) * 1000:7.1f} ms"
                f"  p99 {p99 * 1000:7.1f} ms  max {ordered[-1] * 1000:7.1f} ms  errors {self.errors[route]}"
            )
        return lines


def sent_count(db_url: str) -> int:
    database = open_database(db_url)
    with database.connection_context():
        row = execute(
            database, "SELECT COUNT(*) FROM outbound_message WHERE accepted_at IS NOT NULL"
        ).fetchone()
    if hasattr(database, "close_all"):
        database.close_all()
    return int(row[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--mps", type=int, default=1000, help="WHATSAPP_MPS for the broadcast")
    parser.add_argument("--fakes", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fakes:
        asyncio.run(_host_fakes(*args.fakes))
        return
    for line in machine():
        print(line)
    with scratch_database(args.db, "load") as db_url:
        run(args, db_url)


def run(args: argparse.Namespace, db_url: str) -> None:
    from tests.fakes.cloud_api import API_VERSION, BUSINESS_ACCOUNT_ID, PHONE_NUMBER_ID, TOKEN
    from tests.fakes.slack_api import BOT_TOKEN

    seed(db_url, args.contacts)
    cloud_port, slack_port, port = free_port(), free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "PORT": str(port),
        "API_TOKEN": API_TOKEN,
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "WHATSAPP_TOKEN": TOKEN,
        "WHATSAPP_API_URL": f"http://127.0.0.1:{cloud_port}",
        "WHATSAPP_API_VERSION": API_VERSION,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "WHATSAPP_BUSINESS_ACCOUNT_ID": BUSINESS_ACCOUNT_ID,
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_MPS": str(args.mps),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING,
        "SLACK_ADMINS": "U0ADMIN",
        "SLACK_API_URL": f"http://127.0.0.1:{slack_port}/api/",
    }
    fakes = [sys.executable, "-m", "bench.load", "--fakes", str(cloud_port), str(slack_port)]
    with process(fakes, env, ready="fakes ready"), process([sys.executable, "-m", "bot", "serve"], env):
        wait_http(base + "/healthz")
        headers = {"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"}
        urllib.request.urlopen(
            urllib.request.Request(base + "/api/templates/sync", data=b"", headers=headers)
        )
        body = orjson.dumps({"template": "thank_you", "tags": ["vip"], "schedule": "now", "name": "load"})
        answer = urllib.request.urlopen(
            urllib.request.Request(base + "/api/broadcasts", data=body, headers=headers)
        )
        broadcast_id = orjson.loads(answer.read())["id"]
        deadline = time.monotonic() + 120
        while sent_count(db_url) < 500 and time.monotonic() < deadline:
            time.sleep(0.2)
        before, started = sent_count(db_url), time.monotonic()
        driver = Driver(base, f"http://127.0.0.1:{slack_port}", db_url)
        asyncio.run(driver.run(args.seconds, broadcast_id, float(args.mps)))
        rate = (sent_count(db_url) - before) / (time.monotonic() - started)
        print(
            f"load for {args.seconds:.0f} s on {args.db} while broadcasting to {args.contacts:,} contacts"
            f" (WHATSAPP_MPS={args.mps}): {rate:,.0f} sends/s meanwhile"
        )
        for line in driver.report():
            print(line)
        acks = driver.latency.get("POST /slack/events (slash ack)", [0.0])
        print(f"slowest slash-command ack: {max(acks) * 1000:.0f} ms (Slack allows 3,000 ms)")


if __name__ == "__main__":
    main()
