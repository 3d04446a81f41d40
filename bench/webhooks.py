"""Statuses/s the webhook receiver ingests, on SQLite and PostgreSQL.

    python -m bench.webhooks [--posts 6000] [--batch-posts 300] [--db sqlite|postgres|both]
                             [--client raw|aiohttp] [--runs 1]

A real `python -m bot serve` runs in its own process. The ledger is seeded
with sent messages, then this process posts Meta-format status webhooks,
signed with the app secret, 64 in flight:

- single: one status per POST (Meta's common case), ``--posts`` of them;
- batched: 100 statuses per POST, ``--batch-posts`` of them.

This process plays Meta's part. By default (``--client raw``) it is a lean
one: every request is built and signed before the clock starts, and sent
as ready-made bytes over 64 persistent connections with asyncio streams on
uvloop, reading back only the status line and the body. ``--client
aiohttp`` posts through an ``aiohttp.ClientSession`` instead, which costs
several times more CPU a POST; on a 2-core machine the generator competes
with the receiver and the database for the same cores, so the lean one
measures more of the receiver and less of the generator.

Printed per database: accepted POSTs/s and statuses/s (answered 200, i.e.
durably in the inbox), statuses/s applied to the ledger (until the inbox
is empty), the load average, and CPU µs per POST of each process: the
serve process, the PostgreSQL backends of the bench database, PostgreSQL's
own background processes (WAL writer, checkpointer...; shared with anything
else using the server) and the generator. It prints figures; it never
asserts them.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import resource
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import aiohttp
import psutil

from bench.databases import scratch_database
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


@dataclass
class Server:
    base: str
    pid: int


@contextmanager
def server(url: str) -> Iterator[Server]:
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
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        yield Server(base, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _signed(payloads: list[bytes]) -> list[tuple[bytes, str]]:
    return [(p, "sha256=" + hmac.new(SECRET.encode(), p, hashlib.sha256).hexdigest()) for p in payloads]


async def post_aiohttp(base: str, payloads: list[bytes]) -> tuple[float, float]:
    """POST every payload (signed) through aiohttp, IN_FLIGHT at a time: (seconds, CPU seconds) taken."""
    queue = iter(_signed(payloads))
    connector = aiohttp.TCPConnector(limit=IN_FLIGHT)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            for body, signature in queue:
                headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
                async with session.post(base + "/webhooks/whatsapp", data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"the receiver answered {response.status}")

        started, cpu = time.perf_counter(), _own_cpu()
        await asyncio.gather(*[worker() for _ in range(IN_FLIGHT)])
        return time.perf_counter() - started, _own_cpu() - cpu


def requests(base: str, payloads: list[bytes]) -> list[bytes]:
    """Each payload as the complete HTTP/1.1 request bytes Meta would send (signed, keep-alive)."""
    host = urlsplit(base).netloc
    return [
        (
            f"POST /webhooks/whatsapp HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"X-Hub-Signature-256: {signature}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        for body, signature in _signed(payloads)
    ]


async def post_raw(base: str, payloads: list[bytes]) -> tuple[float, float]:
    """POST every payload, IN_FLIGHT persistent connections at a time, as pre-built request bytes.

    Each connection sends one request, reads its answer (status line, headers up to the blank
    line, Content-Length bytes of body) and sends the next: what Meta's senders do, without an
    HTTP client library's per-request work. Returns (seconds, CPU seconds) taken, building the
    requests excluded.
    """
    parts = urlsplit(base)
    prepared = requests(base, payloads)
    queue = iter(prepared)
    streams = [await asyncio.open_connection(parts.hostname, parts.port) for _ in range(IN_FLIGHT)]

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for request in queue:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError("the receiver answered " + head.split(b"\r\n", 1)[0].decode())
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)

    started, cpu = time.perf_counter(), _own_cpu()
    try:
        await asyncio.gather(*[worker(r, w) for r, w in streams])
    finally:
        for _, writer in streams:
            writer.close()
    return time.perf_counter() - started, _own_cpu() - cpu


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def post_all(base: str, payloads: list[bytes], client: str) -> tuple[float, float]:
    """(seconds, this process's CPU seconds) to POST every payload with ``client``."""
    if client == "aiohttp":
        return asyncio.run(post_aiohttp(base, payloads))
    import uvloop  # only the lean client runs on it

    return uvloop.run(post_raw(base, payloads))


def _cpu(process: psutil.Process) -> float:
    with_children = process.cpu_times()
    return with_children.user + with_children.system


class CpuMeter:
    """CPU seconds used by each party to a run, from one snapshot to the next (psutil)."""

    def __init__(self, server_pid: int, url: str) -> None:
        self.server = psutil.Process(server_pid)
        self.database = url.rsplit("/", 1)[1] if url.startswith("postgres") else ""

    def snapshot(self) -> dict[str, float]:
        """CPU seconds so far: serve (and its event loop's thread), pg backends (of this
        database), pg background."""
        loop = sum(t.user_time + t.system_time for t in self.server.threads() if t.id == self.server.pid)
        out = {"serve": _cpu(self.server), "loop": loop, "pg backends": 0.0, "pg background": 0.0}
        if self.database:
            for process in psutil.process_iter(["name", "cmdline"]):
                try:
                    command = " ".join(process.info["cmdline"] or ())
                    if not command.startswith("postgres:"):
                        continue
                    if f" {self.database} " in command:
                        out["pg backends"] += _cpu(process)
                    elif not any(c.isdigit() for c in command.rsplit(":", 1)[-1]):
                        out["pg background"] += _cpu(process)  # walwriter, checkpointer: no client address
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
        return out


def per_post(before: dict[str, float], after: dict[str, float], generator: float, posts: int) -> str:
    """CPU µs per POST of each party between two snapshots, and the generator's."""
    used = {k: (after[k] - before[k]) / posts * 1e6 for k in before}
    used["generator"] = generator / posts * 1e6
    loop = used.pop("loop")
    parts = [f"{k} {v:,.0f}" for k, v in used.items() if v > 0]
    parts[0] += f" (event loop {loop:,.0f}, database threads {used['serve'] - loop:,.0f})"
    return "CPU µs/POST: " + ", ".join(parts)


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def applied(database: object, status_column: str) -> int:
    row = execute(
        database,  # type: ignore[arg-type]
        f"SELECT COUNT(*) FROM outbound_message WHERE {status_column} IS NOT NULL",
    ).fetchone()
    return int(row[0])


def wait_applied(url: str, column: str, expected: int, started: float) -> float:
    """Seconds from ``started`` until ``expected`` rows have ``column`` set (one connection, polled)."""
    database = open_database(url)
    try:
        with database.connection_context():
            while applied(database, column) < expected:
                if time.perf_counter() - started > 600:
                    raise RuntimeError("statuses were not applied within 10 minutes")
                time.sleep(0.05)
    finally:
        if hasattr(database, "close_all"):
            database.close_all()
    return time.perf_counter() - started


def run(url: str, name: str, posts: int, batch_posts: int, client: str = "raw") -> None:
    seed(url, posts + batch_posts * 100)
    with server(url) as serve:
        meter = CpuMeter(serve.pid, url)
        single = bodies(0, posts, 1, "delivered")
        before = meter.snapshot()
        started = time.perf_counter()
        seconds, generator = post_all(serve.base, single, client)
        done = wait_applied(url, "delivered_at", posts, started)
        after = meter.snapshot()
        print(
            f"{name:<10} single: {posts / seconds:>8,.0f} POSTs/s accepted"
            f" ({posts / done:,.0f} statuses/s applied)  [{load()}]"
        )
        print(f"{'':<10}   {per_post(before, after, generator, posts)}")
        batched = bodies(posts, batch_posts, 100, "delivered")
        before = meter.snapshot()
        started = time.perf_counter()
        seconds, generator = post_all(serve.base, batched, client)
        total = posts + batch_posts * 100
        done = wait_applied(url, "delivered_at", total, started)
        after = meter.snapshot()
        print(
            f"{name:<10} batched: {batch_posts * 100 / seconds:>7,.0f} statuses/s accepted"
            f" in {batch_posts / seconds:,.0f} POSTs/s ({batch_posts * 100 / done:,.0f} statuses/s applied)"
            f"  [{load()}]"
        )
        print(f"{'':<10}   {per_post(before, after, generator, batch_posts)}")


def run_databases(db: str, posts: int, batch_posts: int, client: str = "raw") -> None:
    """The receiver's figures on SQLite, PostgreSQL (a scratch database) or both."""
    print(f"generator: {CLIENTS[client]}")
    for engine in ("sqlite", "postgres"):
        if db in (engine, "both"):
            with scratch_database(engine, "webhooks") as url:
                run(url, "postgresql" if engine == "postgres" else engine, posts, batch_posts, client)


CLIENTS = {
    "raw": "pre-built signed requests over 64 keep-alive connections (asyncio streams, uvloop)",
    "aiohttp": "aiohttp.ClientSession, 64 connections",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--posts", type=int, default=6000)
    parser.add_argument("--batch-posts", type=int, default=300)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--client", choices=sorted(CLIENTS), default="raw", help="the load generator")
    parser.add_argument("--runs", type=int, default=1, help="repeat the whole measurement")
    args = parser.parse_args()
    for line in machine():
        print(line)
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    for _ in range(args.runs):
        run_databases(args.db, args.posts, args.batch_posts, args.client)
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
