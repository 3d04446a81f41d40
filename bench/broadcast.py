"""The broadcast pipeline at size: preview, ledger, sends/s through real workers, worker RSS, rate accuracy.

    python -m bench.broadcast [--contacts 100000] [--db postgres|sqlite]
        [--only preview,ledger,send,latency,rate] [--send-recipients 50000] ...

``--contacts`` contacts are seeded with bulk inserts (``insert_rows``, 50,000
rows a statement batch) and tagged set-based (``INSERT ... SELECT``): every
contact has ``customers``, every 10th ``vip``; every 50th is opted out and
every 100th deleted; every 20th was reached by MARKETING within the cap
window; then VACUUM ANALYZE, as autovacuum would have done by the time
anyone previews. The database is a scratch database on the shared
PostgreSQL (``HERALD_TEST_PG``; dropped at the end) or a temporary SQLite file.

1. preview: ``Broadcasts.preview(id, mask=True)`` (what the Slack face calls)
   for a MARKETING broadcast to ``customers`` or ``vip`` (the whole base),
   median of ``--preview-runs`` after one warm-up; then the same through
   ``GET /api/broadcasts/{id}/preview`` on a real ``python -m bot serve``.
2. ledger: ``Broadcasts.start`` of that broadcast (the move, the
   ``INSERT ... SELECT`` of one queued row per eligible contact, the count,
   the audit row, in one transaction); rows/s. Each run's rows are deleted
   afterwards so later phases see a table of the usual size.
3. send: a UTILITY broadcast to ``--send-recipients`` contacts with
   WHATSAPP_MPS at its maximum (the limiter out of the way). Real processes:
   the fake Cloud API (``python -m tests.fakes.cloud_api``), ``--workers``
   ``python -m bot worker --processes 1`` and one ``python -m bot scheduler``
   on a private Redis. The broadcast is started in this process once the
   workers beat; the scheduler's tick dispatches it. Printed: sends/s from
   the first send to the broadcast completed (every outcome written), the
   steady rate between 10 % and 90 % of the sends, the peak RSS of each
   worker process (psutil, sampled every 0.25 s), and CPU µs per send of the
   workers, the scheduler and the fake. With ``--messaging-limit
   unlimited,10000000`` (any comma list of MESSAGING_LIMIT values) the send
   runs once per value, back to back, and the workers' CPU per send of each
   is compared with the first's: what the messaging limit's check costs.
4. latency: the same with the fake answering after ``--latency-ms``.
5. rate: WHATSAPP_MPS at each of ``--rates``; sends counted at the fake over
   ``--rate-window`` seconds after ``--rate-warmup`` seconds, against the
   configured rate (the Redis GCRA limiter in engine/ratelimit.py), and how
   often the limiter's next slot was ahead of now (senders waiting on it).

It prints figures and never asserts them: the machine is shared and noisy,
so the load average is printed next to each figure.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psutil
import redis

from bench.databases import scratch_database
from bench.load import wait_http
from bench.whatsapp import fake_process, machine
from bot.container import Herald, build
from bot.settings import load_settings
from engine.actor import SYSTEM
from engine.broadcasts import BroadcastSpec
from engine.broker import BrokerLink
from storage.database import is_postgres
from storage.fields import to_db_time
from storage.sql import execute, insert_rows
from tests.fakes.cloud_api import API_VERSION, BUSINESS_ACCOUNT_ID, PHONE_NUMBER_ID, TOKEN
from tests.services import PrivateRedis, free_port, terminate

API_TOKEN = "bench-api-token"
PHASES = ("preview", "ledger", "send", "latency", "rate")
MAX_MPS = 10_000  # WHATSAPP_MPS's upper bound: the limiter out of the way
SEED_CHUNK = 50_000
ROOT = Path(__file__).resolve().parents[1]


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


# -- the database -------------------------------------------------------------------------------


def seed(herald: Herald, contacts: int) -> None:
    """``contacts`` contacts in bulk, then their tags set-based; then VACUUM ANALYZE."""
    db = herald.database
    now = datetime.now(UTC)
    ts = to_db_time(now)
    recent = to_db_time(now - timedelta(hours=2))  # inside the MARKETING cap window
    with db.atomic():
        for start in range(0, contacts, SEED_CHUNK):
            rows = [
                (
                    f"+4479{i:08d}",
                    f"Person {i}",
                    i % 50 != 49,  # opted out: every 50th
                    "deleted" if i % 100 == 98 else "active",
                    recent if i % 20 == 5 else None,
                    ts,
                    ts,
                )
                for i in range(start, min(contacts, start + SEED_CHUNK))
            ]
            insert_rows(
                db,
                "contact",
                ("phone", "name", "opted_in", "status", "last_marketing_at", "created_at", "updated_at"),
                rows,
            )
        insert_rows(db, "tag", ("name", "created_at"), [("customers", ts), ("vip", ts)])
        execute(
            db,
            "INSERT INTO contact_tag (contact_id, tag_id, created_at)"
            " SELECT c.id, t.id, ? FROM contact c JOIN tag t ON t.name = 'customers'",
            [ts],
        )
        execute(
            db,
            "INSERT INTO contact_tag (contact_id, tag_id, created_at)"
            " SELECT c.id, t.id, ? FROM contact c JOIN tag t ON t.name = 'vip' WHERE c.id % 10 = 0",
            [ts],
        )
    # what autovacuum would have done by the time anyone previews: statistics, the visibility map
    execute(db, "VACUUM ANALYZE" if is_postgres(db) else "ANALYZE")


def tag_first(herald: Herald, name: str, count: int) -> None:
    """Tag ``name`` on the first ``count`` eligible contacts, set-based."""
    db = herald.database
    ts = to_db_time(datetime.now(UTC))
    with db.atomic():
        insert_rows(db, "tag", ("name", "created_at"), [(name, ts)])
        execute(
            db,
            "INSERT INTO contact_tag (contact_id, tag_id, created_at)"
            " SELECT c.id, (SELECT id FROM tag WHERE name = ?), ? FROM contact c"
            " WHERE c.opted_in = ? AND c.status = 'active' ORDER BY c.id LIMIT ?",
            [name, ts, True, count],
        )
    execute(db, "VACUUM ANALYZE contact_tag" if is_postgres(db) else "ANALYZE")


def setup(url: str, contacts: int) -> Herald:
    settings = load_settings(database_url=url, log_level="WARNING", whatsapp_mps=80)
    herald = build(settings, direct_only=True)
    herald.in_db(herald.template_sync.run, by=SYSTEM)  # the sandbox's catalogue = the fake's
    started = time.perf_counter()
    herald.in_db(seed, herald, contacts)
    seconds = time.perf_counter() - started
    print(
        f"seeded {contacts:,} contacts with tags in {seconds:.1f} s ({contacts / seconds:,.0f}/s); {load()}"
    )
    return herald


def draft(herald: Herald, template: str, tags: list[str], name: str) -> int:
    spec = BroadcastSpec(template=template, tags=tags, name=name)
    return int(herald.in_db(herald.broadcasts.create, spec, by=SYSTEM)["id"])


# -- 1. preview ---------------------------------------------------------------------------------


def preview(herald: Herald, url: str, runs: int) -> None:
    broadcast_id = draft(herald, "welcome_offer", ["customers", "vip"], "bench preview")
    timings = []
    result = None
    for _ in range(runs + 1):  # the first warms the caches
        started = time.perf_counter()
        result = herald.in_db(herald.broadcasts.preview, broadcast_id, mask=True)
        timings.append(time.perf_counter() - started)
    assert result is not None
    timings = timings[1:]
    print(
        f"preview (engine, Broadcasts.preview as the Slack face calls it): median"
        f" {statistics.median(timings) * 1000:.0f} ms over {runs} runs"
        f" ({', '.join(f'{t * 1000:.0f}' for t in timings)} ms); {load()}"
    )
    print(
        f"  matched {result.matched:,} → opted out {result.opted_out:,} → deleted {result.deleted:,}"
        f" → capped {result.capped:,} → will send {result.will_send:,}"
    )
    port = free_port()
    env = {
        **clean_env(),
        "DATABASE_URL": url,
        "PORT": str(port),
        "API_TOKEN": API_TOKEN,
        "REDIS_URL": "redis://127.0.0.1:1/0",  # nothing listens: direct mode, nothing queued
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/healthz")
        request = urllib.request.Request(
            f"{base}/api/broadcasts/{broadcast_id}/preview",
            headers={"Authorization": f"Bearer {API_TOKEN}"},
        )
        timings = []
        for _ in range(runs + 1):
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=60) as answer:
                body = orjson.loads(answer.read())
            timings.append(time.perf_counter() - started)
        timings = timings[1:]
        print(
            f"preview (GET /api/broadcasts/{{id}}/preview on bot serve): median"
            f" {statistics.median(timings) * 1000:.0f} ms over {runs} runs"
            f" ({', '.join(f'{t * 1000:.0f}' for t in timings)} ms), will_send {body['will_send']:,}; {load()}"
        )
    finally:
        stop([server])


# -- 2. the ledger ------------------------------------------------------------------------------


def ledger(herald: Herald, runs: int) -> None:
    timings = []
    rows = 0
    for run in range(runs):
        broadcast_id = draft(herald, "welcome_offer", ["customers", "vip"], f"bench ledger {run}")
        started = time.perf_counter()
        view = herald.in_db(herald.broadcasts.start, broadcast_id, by=SYSTEM)
        timings.append(time.perf_counter() - started)
        rows = int(view["audience_total"])
        forget(herald, broadcast_id)
    median = statistics.median(timings)
    print(
        f"ledger (Broadcasts.start: move + INSERT ... SELECT + count, one transaction): {rows:,} rows in"
        f" {median:.2f} s median of {runs} ({', '.join(f'{t:.2f}' for t in timings)} s)"
        f" = {rows / median:,.0f} rows/s; {load()}"
    )


def forget(herald: Herald, broadcast_id: int) -> None:
    """Drop a broadcast's ledger and mark it cancelled (bench clean-up, not the engine's cancel)."""

    def drop() -> None:
        with herald.database.atomic():
            execute(herald.database, "DELETE FROM outbound_message WHERE broadcast_id = ?", [broadcast_id])
            execute(
                herald.database,
                "UPDATE broadcast SET status = 'cancelled', audience_total = 0 WHERE id = ?",
                [broadcast_id],
            )

    herald.in_db(drop)
    if is_postgres(herald.database):
        herald.in_db(execute, herald.database, "VACUUM ANALYZE outbound_message")


# -- 3-5. sending through real processes ---------------------------------------------------------------


@dataclass
class SendRun:
    label: str
    recipients: int
    mps: int
    ledger_seconds: float = 0.0
    samples: list[tuple[float, int]] = field(default_factory=list)  # (monotonic, fake's request count)
    completed_at: float | None = None
    rss_peak: dict[int, int] = field(default_factory=dict)  # worker pid -> bytes
    cpu: dict[str, float] = field(default_factory=dict)  # process -> CPU seconds (user + system)
    cpu_baseline: dict[int, float] = field(default_factory=dict)  # worker pid -> CPU before the run
    ahead: list[tuple[float, float]] = field(default_factory=list)  # (monotonic, limiter's TAT - now, s)
    fake_cpu: tuple[float, float] = (0.0, 0.0)  # the fake's CPU seconds at the start and the end
    states: dict[str, int] = field(default_factory=dict)
    load: str = ""

    def at(self, share: float) -> float:
        """When the fake had seen ``share`` of the sends (interpolated between samples)."""
        base = self.samples[0][1]
        goal = base + share * (self.samples[-1][1] - base)
        for (t0, c0), (t1, c1) in zip(self.samples, self.samples[1:], strict=False):
            if c1 >= goal and c1 > c0:
                return t0 + (t1 - t0) * max(0.0, goal - c0) / (c1 - c0)
        return self.samples[-1][0]

    def first_send(self) -> float:
        base = self.samples[0][1]
        return next((t for t, c in self.samples if c > base), self.samples[-1][0])

    def sent(self) -> int:
        return self.samples[-1][1] - self.samples[0][1]


def clean_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WHATSAPP_", "SLACK_", "DATABASE_", "REDIS_", "QUEUE_", "WORKER_"))
    }


def fake_stats(url: str) -> tuple[int, float]:
    """The fake's request count and CPU seconds."""
    with urllib.request.urlopen(f"{url}/stats", timeout=5) as answer:
        stats = orjson.loads(answer.read())
    return int(stats["requests"]), float(stats["cpu_seconds"])


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    terminate(processes, timeout=120)


def worker_children(parents: list[subprocess.Popen[bytes]]) -> list[psutil.Process]:
    """The spawned worker processes (not the supervising parents, not the resource tracker)."""
    found = []
    for parent in parents:
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(parent.pid).children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    if "resource_tracker" not in " ".join(child.cmdline()):
                        found.append(child)
    return found


def herald_env(
    url: str,
    redis_url: str,
    namespace: str,
    fake_url: str,
    *,
    mps: int,
    threads: int | None,
    messaging_limit: str = "",
) -> dict[str, str]:
    env = {
        **clean_env(),
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "QUEUE_NAMESPACE": namespace,
        "WHATSAPP_TOKEN": TOKEN,
        "WHATSAPP_API_URL": fake_url,
        "WHATSAPP_API_VERSION": API_VERSION,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "WHATSAPP_BUSINESS_ACCOUNT_ID": BUSINESS_ACCOUNT_ID,
        "WHATSAPP_MPS": str(mps),
        "LOG_LEVEL": "WARNING",
    }
    if threads:
        env["WORKER_THREADS"] = str(threads)
    if messaging_limit:
        env["MESSAGING_LIMIT"] = messaging_limit
    return env


class Processes:
    """Herald processes started with one environment, each logging to its own file."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.started: list[subprocess.Popen[bytes]] = []

    def launch(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("wb") as log:
            child = subprocess.Popen(
                [sys.executable, "-m", "bot", *args], cwd=ROOT, env=self.env, stdout=log, stderr=log
            )
        self.started.append(child)
        return child

    def check(self) -> None:
        if any(p.poll() is not None for p in self.started):
            raise RuntimeError("a Herald process exited:\n" + tail(self.logs))


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def sample(run: SendRun, fake_url: str, parents: list[subprocess.Popen[bytes]], scheduler: int) -> None:
    """One sample: the fake's count and CPU, each worker's RSS and CPU, the scheduler's CPU."""
    count, cpu = fake_stats(fake_url)
    run.samples.append((time.monotonic(), count))
    run.fake_cpu = (run.fake_cpu[0], cpu)
    for child in worker_children(parents):
        with contextlib.suppress(psutil.Error):
            run.rss_peak[child.pid] = max(run.rss_peak.get(child.pid, 0), child.memory_info().rss)
            run.cpu[f"worker {child.pid}"] = cpu_seconds(child) - run.cpu_baseline.get(child.pid, 0.0)
    with contextlib.suppress(psutil.Error):
        run.cpu["scheduler"] = cpu_seconds(psutil.Process(scheduler))


def send_run(
    herald: Herald,
    url: str,
    redis_url: str,
    run: SendRun,
    *,
    latency: float,
    workers: int,
    threads: int | None,
    window: float | None = None,
    warmup: float = 0.0,
    timeout: float = 3600.0,
    keep_logs: bool = False,
    messaging_limit: str = "",
) -> SendRun:
    """One broadcast through the fake, ``workers`` worker processes and a scheduler.

    With ``window``, stops after ``warmup + window`` seconds of sending (the rate runs);
    otherwise when the broadcast is completed.
    """
    tag = f"bench_{run.label}_{run.recipients}"
    herald.in_db(tag_first, herald, tag, run.recipients)
    broadcast_id = draft(herald, "thank_you", [tag], f"bench {run.label}")
    namespace = f"benchbc{os.getpid()}{run.label}"
    logs = Path(tempfile.mkdtemp(prefix="herald-bench-logs-"))
    # a seed of its own: the fake's wamids are a function of (seed, recipient, order), and a run
    # repeating an earlier run's would collide with its wamids in the ledger (unique), not Meta's
    with fake_process(latency, seed=random.randrange(2**31)) as fake_url:
        processes = Processes(
            herald_env(
                url,
                redis_url,
                namespace,
                fake_url,
                mps=run.mps,
                threads=threads,
                messaging_limit=messaging_limit,
            ),
            logs,
        )
        link = BrokerLink(redis_url, namespace)
        stack = contextlib.ExitStack()
        try:
            parents = [
                processes.launch(f"worker-{i}", ["worker", "--processes", "1"]) for i in range(workers)
            ]
            deadline = time.monotonic() + 120
            while link.workers_alive() < workers:
                if time.monotonic() > deadline:
                    raise RuntimeError("the workers never beat:\n" + tail(logs))
                time.sleep(0.2)
            for child in worker_children(parents):  # CPU spent starting up is not counted
                with contextlib.suppress(psutil.Error):
                    run.cpu_baseline[child.pid] = cpu_seconds(child)
            started = time.perf_counter()
            view = herald.in_db(herald.broadcasts.start, broadcast_id, by=SYSTEM)
            run.ledger_seconds = time.perf_counter() - started
            run.recipients = int(view["audience_total"])  # fewer when too few contacts are eligible
            scheduler = processes.launch("scheduler", ["scheduler"]).pid
            count, cpu = fake_stats(fake_url)
            run.samples.append((time.monotonic(), count))
            run.fake_cpu = (cpu, cpu)
            limiter = redis.Redis.from_url(redis_url)
            key = f"{namespace}:rate:{PHONE_NUMBER_ID}"

            def take_sample() -> None:
                sample(run, fake_url, parents, scheduler)
                run.ahead.append((time.monotonic(), limiter_ahead(limiter, key)))

            stack.callback(limiter.close)
            watch(
                herald,
                broadcast_id,
                run,
                processes,
                take_sample,
                window=window,
                warmup=warmup,
                timeout=timeout,
            )
        finally:
            stop(processes.started)
            link.close()
            stack.close()
            resent = run.sent() - run.recipients if run.samples else 0
            if keep_logs or (window is None and resent > 0):
                print(f"  logs of the Herald processes: {logs}")
            else:
                shutil.rmtree(logs, ignore_errors=True)
    run.states = herald.in_db(states, herald, broadcast_id)
    return run


def limiter_ahead(client: redis.Redis[bytes], key: str) -> float:
    """Seconds the GCRA's next free slot is ahead of Redis's clock (<= 0: nobody is waiting on it)."""
    tat = client.get(key)
    seconds, micros = client.time()
    now = int(seconds) * 1_000_000 + int(micros)
    return (int(tat) - now) / 1_000_000 if tat else -1.0


def watch(
    herald: Herald,
    broadcast_id: int,
    run: SendRun,
    processes: Processes,
    take_sample: Callable[[], None],
    *,
    window: float | None,
    warmup: float,
    timeout: float,
) -> None:
    """Sample every 0.25 s until the broadcast is completed, or ``warmup + window`` seconds of sending."""
    deadline = time.monotonic() + timeout
    status_checked = 0.0
    first: float | None = None
    while time.monotonic() < deadline:
        time.sleep(0.25)
        take_sample()
        now = run.samples[-1][0]
        if first is None and run.samples[-1][1] > run.samples[0][1]:
            first = now
        if window is not None:
            if first is not None and now - first >= warmup + window:
                break
        elif now - status_checked >= 0.5:
            status_checked = now
            if status(herald, broadcast_id) == "completed":
                run.completed_at = now
                break
        processes.check()
    else:
        print(f"  {run.label}: timed out after {timeout:.0f} s")
    run.load = load()
    if run.completed_at is None:
        with contextlib.suppress(Exception):
            herald.in_db(herald.broadcasts.cancel, broadcast_id, by=SYSTEM)


def status(herald: Herald, broadcast_id: int) -> str:
    row = herald.in_db(
        lambda: execute(
            herald.database, "SELECT status FROM broadcast WHERE id = ?", [broadcast_id]
        ).fetchone()
    )
    return str(row[0])


def states(herald: Herald, broadcast_id: int) -> dict[str, int]:
    rows = execute(
        herald.database,
        "SELECT state, COUNT(*) FROM outbound_message WHERE broadcast_id = ? GROUP BY state",
        [broadcast_id],
    ).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def tail(logs: Path) -> str:
    return "\n".join(f"{p.name}: {p.read_text(errors='replace')[-1500:]}" for p in sorted(logs.iterdir()))


def report_send(run: SendRun, latency: float) -> None:
    assert run.completed_at is not None or run.samples
    first = run.first_send()
    end = run.completed_at or run.samples[-1][0]
    sent = run.sent()
    steady = 0.8 * sent / max(1e-9, run.at(0.9) - run.at(0.1))
    rss = ", ".join(f"{b / 2**20:.0f} MB" for b in run.rss_peak.values()) or "-"
    done = "completed" if run.completed_at else "NOT completed"
    if sent > run.recipients:  # rows left ``sending`` without an outcome wait RECONCILE_MINUTES
        print(f"  {sent - run.recipients:,} sends beyond the {run.recipients:,} recipients: rows were resent")
    print(
        f"{run.label} (fake latency {latency * 1000:.0f} ms, WHATSAPP_MPS={run.mps}): {sent:,} sends,"
        f" first send to broadcast {done} {end - first:.1f} s = {sent / (end - first):,.0f} sends/s"
        f" end to end; steady (10-90 %) {steady:,.0f} sends/s; {run.load}"
    )
    print(
        f"  ledger of {run.recipients:,} built in {run.ledger_seconds:.2f} s; scheduler start to first send"
        f" {first - run.samples[0][0]:.1f} s; peak worker RSS {rss}; ledger states {run.states}"
    )
    workers = sum(v for k, v in run.cpu.items() if k.startswith("worker"))
    per = 1e6 / max(1, sent)
    print(
        f"  CPU µs per send: workers {workers * per:,.0f}, scheduler"
        f" {run.cpu.get('scheduler', 0.0) * per:,.0f} (with start-up),"
        f" fake {(run.fake_cpu[1] - run.fake_cpu[0]) * per:,.0f}"
    )


def worker_cpu_per_send(run: SendRun) -> float:
    """Worker CPU µs per send."""
    return sum(v for k, v in run.cpu.items() if k.startswith("worker")) * 1e6 / max(1, run.sent())


def report_governor(runs: list[tuple[str, SendRun]]) -> None:
    """The same send with each MESSAGING_LIMIT, side by side: what the limit check costs."""
    base_limit, base = runs[0]
    first = worker_cpu_per_send(base)
    for limit, run in runs:
        cpu = worker_cpu_per_send(run)
        print(
            f"MESSAGING_LIMIT={limit or '(not set)'}: workers {cpu:,.0f} CPU µs per send"
            f" ({(cpu - first) / first:+.1%} against MESSAGING_LIMIT={base_limit or '(not set)'}); {run.load}"
        )


def report_rate(run: SendRun, warmup: float, window: float) -> None:
    first = run.first_send()
    inside = [(t, c) for t, c in run.samples if first + warmup <= t <= first + warmup + window]
    if len(inside) < 2:
        print(f"rate {run.mps} mps: too few samples")
        return
    (t0, c0), (t1, c1) = inside[0], inside[-1]
    measured = (c1 - c0) / (t1 - t0)
    error = (measured - run.mps) / run.mps * 100
    held = [a for t, a in run.ahead if t0 <= t <= t1]
    share = sum(1 for a in held if a > 0) / max(1, len(held))
    print(
        f"rate limit WHATSAPP_MPS={run.mps}: measured {measured:,.1f} sends/s over {t1 - t0:.1f} s"
        f" (after {warmup:.0f} s of warm-up) = {error:+.1f} % of configured; {run.load}"
    )
    print(
        f"  the limiter's next slot was ahead of now (senders waiting on it) in {share:.0%} of the samples;"
        " in the others nobody was waiting: the pipeline, not the limiter, set the pace then"
    )


# -- main -----------------------------------------------------------------------------------------


def sending(
    herald: Herald, url: str, args: argparse.Namespace, only: set[str], stack: contextlib.ExitStack
) -> None:
    """Phases 3-5: through real worker and scheduler processes on Redis."""
    redis_url = args.redis
    if not redis_url:
        private = PrivateRedis(Path(stack.enter_context(tempfile.TemporaryDirectory())))
        private.start()
        stack.callback(private.stop)
        redis_url = private.url
    common: dict[str, Any] = {
        "workers": args.workers,
        "threads": args.threads,
        "keep_logs": args.keep_logs,
    }
    if "send" in only:
        runs: list[tuple[str, SendRun]] = []
        for i, limit in enumerate(v.strip() for v in args.messaging_limit.split(",")):
            label = f"send{i + 1}-{limit or 'default'}" if args.messaging_limit else "send"
            run = SendRun(label, args.send_recipients, MAX_MPS)
            if limit:
                print(f"{label}: MESSAGING_LIMIT={limit}")
            report_send(
                send_run(herald, url, redis_url, run, latency=0.0, messaging_limit=limit, **common), 0.0
            )
            runs.append((limit, run))
        if len(runs) > 1:
            report_governor(runs)
    if "latency" in only:
        latency = args.latency_ms / 1000
        run = SendRun("latency", args.latency_recipients, MAX_MPS)
        report_send(send_run(herald, url, redis_url, run, latency=latency, **common), latency)
    if "rate" in only:
        for mps in (int(r) for r in args.rates.split(",") if r.strip()):
            need = int(mps * (args.rate_warmup + args.rate_window + 10))
            run = SendRun(f"rate{mps}", need, mps)
            send_run(
                herald,
                url,
                redis_url,
                run,
                latency=0.0,
                window=args.rate_window,
                warmup=args.rate_warmup,
                **common,
            )
            report_rate(run, args.rate_warmup, args.rate_window)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.broadcast", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--only", default=",".join(PHASES), help="comma list of " + ",".join(PHASES))
    parser.add_argument("--preview-runs", type=int, default=7)
    parser.add_argument("--ledger-runs", type=int, default=3)
    parser.add_argument("--send-recipients", type=int, default=50_000)
    parser.add_argument("--latency-recipients", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=float, default=150.0)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=None, help="WORKER_THREADS (default: Herald's)")
    parser.add_argument("--rates", default="80,1000", help="WHATSAPP_MPS values for the rate runs")
    parser.add_argument("--rate-window", type=float, default=20.0, help="seconds measured")
    parser.add_argument("--rate-warmup", type=float, default=5.0, help="seconds skipped first")
    parser.add_argument("--keep-logs", action="store_true", help="keep the Herald processes' logs")
    parser.add_argument("--redis", default="", help="a Redis URL (default: a private redis-server)")
    parser.add_argument(
        "--messaging-limit",
        default="",
        help="comma list of MESSAGING_LIMIT values (a number or unlimited): the send part runs once with"
        " each, back to back, and compares the workers' CPU per send",
    )
    args = parser.parse_args()
    only = {p.strip() for p in args.only.split(",") if p.strip()}
    if unknown := only - set(PHASES):
        parser.error(f"unknown phase(s) {', '.join(sorted(unknown))}; choose from {', '.join(PHASES)}")
    for line in machine():
        print(line)
    print(f"psutil {psutil.__version__}; database {args.db}; {args.contacts:,} contacts; {load()}")
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(scratch_database(args.db, "broadcast"))
        herald = setup(url, args.contacts)
        stack.callback(herald.close)
        if "preview" in only:
            preview(herald, url, args.preview_runs)
        if "ledger" in only:
            ledger(herald, args.ledger_runs)
        if only & {"send", "latency", "rate"}:
            sending(herald, url, args, only, stack)
    print(f"done; {load()}")


if __name__ == "__main__":
    main()
