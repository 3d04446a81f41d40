"""The security review's denial-of-service attacks against a running ``serve`` (issue 20).

    python -m bench.attacks [--before DIR] [--only heads,bodies,gone,gzip,uploads,newlines]

Starts ``python -m bot serve`` on a fresh SQLite file (the sandbox, Slack off,
Redis unreachable so the work is direct) from this checkout, and with
``--before DIR`` from another one too (``git archive <commit> | tar -x -C
DIR``), one after the other, and runs against each:

- heads: 2,000 connections each send half a request head and wait; the
  server's open sockets (from ``/proc``) 5 s and 12 s later, and how long
  ``/healthz`` takes meanwhile.
- bodies: 500 webhook POSTs announce 1,000 bytes and send 10; the sockets
  still open 35 s later.
- gone: 200 clients drop the connection mid-body; the log bytes they cause.
- gzip: 200 concurrent 9 KiB gzip bodies of 9 MiB each to the webhook; the
  answers, ``serve``'s RSS before and its peak (``VmHWM``) after, and how
  long ``/healthz`` takes meanwhile.
- uploads: 9 CSV uploads send 10 rows and stall (8 database threads);
  how long ``/healthz`` and a signed webhook take meanwhile.
- newlines: a CSV body of 64 MB and one of 128 MB without a newline; the
  time to the answer.

It prints figures and never asserts them: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import hashlib
import hmac
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from bench.whatsapp import machine

HERE = Path(__file__).resolve().parents[1]
TOKEN = "bench-api-token"
SECRET = "bench-app-secret"
WEBHOOK = b'{"object": "whatsapp_business_account", "entry": []}'
ATTACKS = ("heads", "bodies", "gone", "gzip", "uploads", "newlines")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Serve:
    """``python -m bot serve`` from ``root``, its stderr in a file."""

    def __init__(self, root: Path, workdir: Path) -> None:
        self.root = root
        self.port = free_port()
        self.log_path = workdir / f"serve-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WHATSAPP_", "SLACK_", "DATABASE_"))}
        env.update(
            DATABASE_URL=f"sqlite:///{workdir / f'herald-{self.port}.db'}",
            REDIS_URL="redis://127.0.0.1:1/0",  # nothing there: direct processing
            PORT=str(self.port),
            API_TOKEN=TOKEN,
            WHATSAPP_APP_SECRET=SECRET,
            LOG_LEVEL="INFO",
        )
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"], cwd=root, env=env, stdout=self._log, stderr=self._log
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def sockets(self) -> int:
        count = 0
        for fd in os.listdir(f"/proc/{self.pid}/fd"):
            with contextlib.suppress(OSError):
                count += os.readlink(f"/proc/{self.pid}/fd/{fd}").startswith("socket:")
        return count

    def memory(self, field: str) -> float:
        """``VmRSS`` or ``VmHWM`` in MB."""
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def log_bytes(self) -> int:
        self._log.flush()
        return self.log_path.stat().st_size

    async def ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, TimeoutError, asyncio.IncompleteReadError):
                if (await self.get("/healthz", timeout=2))[0]:
                    return
            await asyncio.sleep(0.3)
        raise RuntimeError("serve never answered")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port, limit=2**20)

    async def request(self, raw: bytes, timeout: float = 30) -> tuple[int, float]:
        """Send ``raw``; (status, seconds to the answer's first line), status 0 when none came."""
        started = time.perf_counter()
        reader, writer = await self.connect()
        try:
            writer.write(raw)
            line = await asyncio.wait_for(reader.readline(), timeout)
            status = int(line.split()[1]) if line else 0
        except TimeoutError:
            status = 0
        finally:
            writer.close()
        return status, time.perf_counter() - started

    async def get(self, path: str, timeout: float = 30) -> tuple[int, float]:
        return await self.request(head("GET", path), timeout)


def head(method: str, path: str, length: int | None = None, **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: bench", "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def signed(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


@contextlib.asynccontextmanager
async def opened(serve: Serve, count: int, first: bytes) -> AsyncIterator[list[asyncio.StreamWriter]]:
    """``count`` connections that each sent ``first`` and wait; closed on the way out."""
    writers = []
    try:
        for _ in range(count):
            _, writer = await serve.connect()
            writer.write(first)
            writers.append(writer)
        yield writers
    finally:
        for writer in writers:
            writer.close()


async def heads(serve: Serve) -> str:
    base = serve.sockets()
    async with opened(serve, 2000, b"POST /webhooks/whatsapp HTTP/1.1\r\nHost: bench\r\n"):
        started = time.monotonic()
        _, health = await serve.get("/healthz")
        await asyncio.sleep(5 - (time.monotonic() - started))
        at5 = serve.sockets() - base
        await asyncio.sleep(12 - (time.monotonic() - started))
        at12 = serve.sockets() - base
    return f"2,000 half heads: held {at5:,} after 5 s, {at12:,} after 12 s; /healthz meanwhile {health * 1000:.0f} ms"


async def bodies(serve: Serve) -> str:
    base = serve.sockets()
    first = head("POST", "/webhooks/whatsapp", 1000, X_Hub_Signature_256=signed(b"x")) + b"0123456789"
    async with opened(serve, 500, first):
        await asyncio.sleep(1)
        at1 = serve.sockets() - base
        await asyncio.sleep(34)
        at35 = serve.sockets() - base
    return f"500 stalled webhook bodies: held {at1:,} after 1 s, {at35:,} after 35 s"


async def gone(serve: Serve) -> str:
    before = serve.log_bytes()
    first = head("POST", "/webhooks/whatsapp", 1000, X_Hub_Signature_256=signed(b"x")) + b"0123456789"
    for _ in range(200):
        _, writer = await serve.connect()
        writer.write(first)
        await writer.drain()
        await asyncio.sleep(0.005)
        writer.transport.abort()
    await asyncio.sleep(2)
    grown = serve.log_bytes() - before
    return f"200 clients gone mid-body: {grown:,} bytes of log ({grown / 200:,.0f} a client)"


async def gzip_bombs(serve: Serve) -> str:
    bomb = gzip.compress(b"\0" * (9 * 2**20), 9)
    raw = (
        head(
            "POST",
            "/webhooks/whatsapp",
            len(bomb),
            Content_Type="application/json",
            Content_Encoding="gzip",
            X_Hub_Signature_256=signed(b"x"),
        )
        + bomb
    )
    rss = serve.memory("VmRSS")

    async def health_meanwhile() -> tuple[int, float]:
        await asyncio.sleep(0.5)
        return await serve.get("/healthz", timeout=60)

    *answers, health = await asyncio.gather(*(serve.request(raw, 60) for _ in range(200)), health_meanwhile())
    statuses: dict[int, int] = {}
    for status, _ in answers:
        statuses[status] = statuses.get(status, 0) + 1
    slowest = max(seconds for _, seconds in answers)
    return (
        f"200 × {len(bomb):,} B gzip bodies of 9 MiB at once: answers {statuses}, slowest {slowest:.1f} s;"
        f" RSS {rss:.0f} MB before, peak {serve.memory('VmHWM'):.0f} MB, {serve.memory('VmRSS'):.0f} MB after;"
        f" /healthz meanwhile {_answer(health)}"
    )


async def uploads(serve: Serve) -> str:
    rows = b"phone\n" + b"".join(b"+4479110%05d\n" % i for i in range(10))
    first = head(
        "POST", "/api/contacts/import", 10**7, Authorization=f"Bearer {TOKEN}", Content_Type="text/csv"
    )
    async with opened(serve, 9, first + rows):
        await asyncio.sleep(1)
        health = await serve.get("/healthz", timeout=20)
        signature = signed(WEBHOOK)
        webhook = head("POST", "/webhooks/whatsapp", len(WEBHOOK), X_Hub_Signature_256=signature) + WEBHOOK
        delivered = await serve.request(webhook, timeout=20)
    return (
        f"9 stalled CSV uploads: /healthz {_answer(health)}, a signed webhook {_answer(delivered)} meanwhile"
    )


def _answer(result: tuple[int, float]) -> str:
    status, seconds = result
    return f"{status} in {seconds * 1000:,.0f} ms" if status else f"no answer in {seconds:.0f} s"


async def newlines(serve: Serve) -> str:
    found = []
    for size in (64 * 2**20, 128 * 2**20):
        body = b"phone\n" + b"7" * size
        raw = head("POST", "/api/contacts/import", len(body), Authorization=f"Bearer {TOKEN}") + body
        status, seconds = await serve.request(raw, timeout=120)
        found.append(f"{size // 2**20} MiB {seconds:.1f} s ({status})")
    return "CSV without newlines: " + ", ".join(found)


RUNS: dict[str, Callable[[Serve], Any]] = {
    "heads": heads,
    "bodies": bodies,
    "gone": gone,
    "gzip": gzip_bombs,
    "uploads": uploads,
    "newlines": newlines,
}


async def attack(root: Path, only: list[str], workdir: Path) -> None:
    for name in only:  # a fresh server for each, so one attack's leftovers do not skew the next
        serve = Serve(root, workdir)
        try:
            await serve.ready()
            print(f"  {name:9} {await RUNS[name](serve)}", flush=True)
        finally:
            serve.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, help="another checkout to attack first, for comparison")
    parser.add_argument("--only", default=",".join(ATTACKS))
    args = parser.parse_args()
    only = [a for a in args.only.split(",") if a]
    for line in machine():
        print(line)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as workdir:
        for label, root in (("before", args.before), ("after", HERE)):
            if root is None:
                continue
            print(f"{label} ({root}):", flush=True)
            asyncio.run(attack(root.resolve(), only, Path(workdir)))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
