"""Statuses/s the webhook receiver ingests, on SQLite and PostgreSQL.

    python -m bench.webhooks [--posts 6000] [--batch-posts 300] [--db sqlite|postgres|both]

A real `python -m bot serve` runs in its own process. The ledger is seeded
with sent messages, then this process posts Meta-format status webhooks,
signed with the app secret, 64 in flight:

- single: one status per POST (Meta's common case), ``--posts`` of them;
- batched: 100 statuses per POST, ``--batch-posts`` of them.

Printed per database: accepted POSTs/s and statuses/s (answered 200, i.e.
durably in the inbox), and statuses/s applied to the ledger (until the
inbox is empty). It prints figures; it never asserts them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import aiohttp

from bench.scratch import scratch_database
from bench.whatsapp import machine
from storage.database import open_database
from storage.migrations import migrate
from storage.sql import execute, insert_rows
from tests.services import free_port

SECRET = "bench-app-secret"
IN_FLIGHT = 64


def seed(url: str, messages: int) -> None:
    """A broadcast and ``messages`` sent ledger rows with known wamids."""
    database = open_database(url)
    migrate(database)
    now = datetime.now(UTC).replace(tzinfo=None)
    with database.connection_context(), database.atomic():
        execute(
            database,
            "INSERT INTO template (name, language, category, status, updated_at) VALUES (?, ?, ?, ?, ?)",
            ["bench", "en", "UTILITY", "APPROVED", now],
        )
        execute(
            database,
            "INSERT INTO broadcast (name, template_id, tags, status, timezone, created_at, updated_at,"
            " audience_total) VALUES (?, 1, '[]', 'sending', 'UTC', ?, ?, ?)",
            ["bench", now, now, messages],
        )
        insert_rows(
            database,
            "contact",
            ("phone", "name", "created_at", "updated_at"),
            [(f"+4479{i:08d}", "Bench", now, now) for i in range(messages)],
        )
        insert_rows(
            database,
            "outbound_message",
            ("broadcast_id", "contact_id", "template_id", "state", "wamid", "accepted_at", "created_at"),
            [(1, i + 1, 1, "sent", f"wamid.BENCH{i}", now, now) for i in range(messages)],
        )
    if hasattr(database, "close_all"):
        database.close_all()


def bodies(start: int, count: int, per_body: int, status: str) -> list[bytes]:
    from tests.fakes.status_webhooks import StatusWebhooks

    hooks = StatusWebhooks(accepted=[], phone_number_id="1", business_account_id="2", app_secret=SECRET)
    stamp = int(time.time())
    out = []
    for body_index in range(count):
        statuses = [
            {
                "id": f"wamid.BENCH{(start + body_index * per_body + k)}",
                "status": status,
                "timestamp": str(stamp),
                "recipient_id": "447900000000",
            }
            for k in range(per_body)
        ]
        out.append(hooks.body(statuses))
    return out


@contextmanager
def server(url: str) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PORT": str(port),
        "WHATSAPP_APP_SECRET": SECRET,
        "REDIS_URL": "redis://127.0.0.1:1/0",  # nothing listens: direct mode, no worker traffic
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                import urllib.request

                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


async def post_all(base: str, payloads: list[bytes]) -> float:
    """POST every payload (signed), IN_FLIGHT at a time; returns the seconds taken."""
    import hashlib
    import hmac

    signed = [(p, "sha256=" + hmac.new(SECRET.encode(), p, hashlib.sha256).hexdigest()) for p in payloads]
    queue = iter(signed)
    connector = aiohttp.TCPConnector(limit=IN_FLIGHT)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            for body, signature in queue:
                headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
                async with session.post(base + "/webhooks/whatsapp", data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"the receiver answered {response.status}")

        started = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(IN_FLIGHT)])
        return time.perf_counter() - started


def applied(url: str, status_column: str) -> int:
    database = open_database(url)
    with database.connection_context():
        row = execute(
            database, f"SELECT COUNT(*) FROM outbound_message WHERE {status_column} IS NOT NULL"
        ).fetchone()
    if hasattr(database, "close_all"):
        database.close_all()
    return int(row[0])


def wait_applied(url: str, column: str, expected: int, started: float) -> float:
    while applied(url, column) < expected:
        if time.perf_counter() - started > 600:
            raise RuntimeError("statuses were not applied within 10 minutes")
        time.sleep(0.1)
    return time.perf_counter() - started


def run(url: str, name: str, posts: int, batch_posts: int) -> None:
    seed(url, posts + batch_posts * 100)
    with server(url) as base:
        single = bodies(0, posts, 1, "delivered")
        started = time.perf_counter()
        seconds = asyncio.run(post_all(base, single))
        done = wait_applied(url, "delivered_at", posts, started)
        print(
            f"{name:<10} single: {posts / seconds:>8,.0f} POSTs/s accepted"
            f" ({posts / done:,.0f} statuses/s applied)"
        )
        batched = bodies(posts, batch_posts, 100, "delivered")
        started = time.perf_counter()
        seconds = asyncio.run(post_all(base, batched))
        total = posts + batch_posts * 100
        done = wait_applied(url, "delivered_at", total, started)
        print(
            f"{name:<10} batched: {batch_posts * 100 / seconds:>7,.0f} statuses/s accepted"
            f" in {batch_posts / seconds:,.0f} POSTs/s ({batch_posts * 100 / done:,.0f} statuses/s applied)"
        )


def run_databases(db: str, posts: int, batch_posts: int) -> None:
    """The receiver's figures on SQLite, PostgreSQL (a scratch database) or both."""
    for engine in ("sqlite", "postgres"):
        if db in (engine, "both"):
            with scratch_database(engine, "webhooks") as url:
                run(url, "postgresql" if engine == "postgres" else engine, posts, batch_posts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--posts", type=int, default=6000)
    parser.add_argument("--batch-posts", type=int, default=300)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    for line in machine():
        print(line)
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    run_databases(args.db, args.posts, args.batch_posts)
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
