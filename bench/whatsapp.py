"""Sends/s of CloudApiClient from one process against the fake Cloud API in another.

    python -m bench.whatsapp [--runs 3] [--sends 20000] [--loop uvloop|asyncio]
                             [--webhooks sqlite|postgres|both|none]

The fake runs as its own process (uvloop, no request log). Each scenario
opens a fresh client with ``connections`` equal to the requests in flight,
warms the pool, then times ``sends`` template sends made by that many
worker coroutines. The ``aiohttp`` row posts the same bytes through a bare
``aiohttp.ClientSession``: the floor CloudApiClient is measured against.
Printed per scenario: the median send rate over the runs (with every run),
client CPU µs per send (this process, getrusage), the fake's CPU µs per
request (its /stats), and the in-flight ÷ latency ceiling.

Then, unless ``--webhooks none``, the other half of the conversation with
Meta: statuses/s ingested by the webhook receiver (``bench/webhooks.py``:
one status per POST, and 100 per POST) on SQLite and PostgreSQL.

It prints figures and never asserts them: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

import aiohttp
import orjson

from engine.whatsapp.client import CloudApiClient
from engine.whatsapp.messages import TemplateMessage
from tests.fakes.cloud_api import PHONE_NUMBER_ID, TOKEN


@dataclass(frozen=True)
class Scenario:
    sender: str  # "client" (CloudApiClient) or "aiohttp" (a bare session, the floor)
    in_flight: int
    latency: float  # seconds the fake waits before answering


SCENARIOS = [
    Scenario("client", 64, 0.0),
    Scenario("aiohttp", 64, 0.0),
    Scenario("client", 256, 0.0),
    Scenario("client", 64, 0.150),
    Scenario("client", 150, 0.150),
    Scenario("client", 256, 0.150),
]


Send = Callable[[TemplateMessage], Awaitable[str]]


@dataclass
class Run:
    sends: int
    seconds: float
    client_cpu: float
    fake_cpu: float

    @property
    def rate(self) -> float:
        return self.sends / self.seconds


def machine() -> Iterator[str]:
    model = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import uvloop

    yield f"machine: nproc={os.cpu_count()}, CPU {model}, {platform.platform()}"
    yield (
        f"python {platform.python_version()} ({platform.python_implementation()}), "
        f"aiohttp {aiohttp.__version__}, orjson {orjson.__version__}, uvloop {uvloop.__version__}"
    )


@contextlib.contextmanager
def fake_process(latency: float, seed: int = 0) -> Iterator[str]:
    """The fake Cloud API in a child process; yields its base URL. Its wamids follow ``seed``."""
    command = [sys.executable, "-m", "tests.fakes.cloud_api", "--port", "0"]
    command += ["--latency", str(latency), "--seed", str(seed)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the fake did not start: {line!r}")
        yield line.split()[-1]
    finally:
        process.terminate()
        process.wait(timeout=10)


async def fake_cpu(session: aiohttp.ClientSession, url: str) -> float:
    async with session.get(f"{url}/stats") as response:
        return float((await response.json())["cpu_seconds"])


def message(i: int) -> TemplateMessage:
    parameter = {"type": "text", "text": "Asha", "parameter_name": "first_name"}
    return TemplateMessage(
        to=f"+9198{i % 10**8:08}",
        template="welcome_offer",
        language="en",
        components=[{"type": "body", "parameters": [parameter]}],
        callback=str(i),
    )


@contextlib.asynccontextmanager
async def sender_for(url: str, scenario: Scenario) -> AsyncIterator[Send]:
    """A send function: CloudApiClient, or a bare aiohttp session posting the same bytes."""
    if scenario.sender == "client":
        client = CloudApiClient(
            base_url=url,
            api_version="v25.0",
            token=TOKEN,
            phone_number_id=PHONE_NUMBER_ID,
            connections=scenario.in_flight,
            read_timeout=30.0,
        )
        try:
            yield client.send_template
        finally:
            await client.close()
        return
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=scenario.in_flight)
    target = f"{url}/v25.0/{PHONE_NUMBER_ID}/messages"
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def send(item: TemplateMessage) -> str:
            payload = {
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": item.to,
                "type": "template",
                "template": {
                    "name": item.template,
                    "language": {"code": item.language},
                    "components": item.components,
                },
                "biz_opaque_callback_data": item.callback,
            }
            async with session.post(target, data=orjson.dumps(payload)) as response:
                return str(orjson.loads(await response.read())["messages"][0]["id"])

        yield send


async def run_once(url: str, scenario: Scenario, sends: int) -> Run:
    messages = [message(i) for i in range(sends)]
    async with sender_for(url, scenario) as send, aiohttp.ClientSession() as stats:
        await asyncio.gather(*(send(message(i)) for i in range(scenario.in_flight)))
        queue = iter(messages)

        async def worker() -> None:
            for item in queue:
                await send(item)

        fake_before = await fake_cpu(stats, url)
        usage_before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(scenario.in_flight)))
        seconds = time.perf_counter() - started
        usage_after = resource.getrusage(resource.RUSAGE_SELF)
        fake_after = await fake_cpu(stats, url)
    client_cpu = (usage_after.ru_utime + usage_after.ru_stime) - (
        usage_before.ru_utime + usage_before.ru_stime
    )
    return Run(sends, seconds, client_cpu, fake_after - fake_before)


def sends_for(in_flight: int, latency: float, sends: int) -> int:
    """Enough sends for a few seconds of steady state at the in-flight ceiling."""
    if latency == 0:
        return sends
    return max(2_000, min(sends, int(in_flight / latency * 5)))


async def bench(runs: int, sends: int) -> None:
    print(
        f"{'sender':>8} {'in flight':>9} {'latency':>8} {'sends':>6} {'sends/s':>8} "
        f"{'client µs/send':>15} {'fake µs/req':>12} {'ceiling/s':>10}  every run (sends/s)"
    )
    for latency in sorted({s.latency for s in SCENARIOS}):
        group = [s for s in SCENARIOS if s.latency == latency]
        results: dict[Scenario, list[Run]] = {s: [] for s in group}
        with fake_process(latency) as url:
            # Round-robin, so the machine's drift is shared between scenarios.
            for _ in range(runs):
                for scenario in group:
                    count = sends_for(scenario.in_flight, latency, sends)
                    results[scenario].append(await run_once(url, scenario, count))
        for scenario, done in results.items():
            print(line(scenario, done), flush=True)


def line(scenario: Scenario, done: list[Run]) -> str:
    median = statistics.median(r.rate for r in done)
    every = ", ".join(f"{r.rate:,.0f}" for r in done)
    client_us = statistics.median(r.client_cpu / r.sends * 1e6 for r in done)
    fake_us = statistics.median(r.fake_cpu / r.sends * 1e6 for r in done)
    latency = scenario.latency
    ceiling = f"{scenario.in_flight / latency:,.0f}" if latency else "-"
    return (
        f"{scenario.sender:>8} {scenario.in_flight:>9} {latency * 1000:>6.0f}ms "
        f"{done[0].sends:>6} {median:>8,.0f} {client_us:>15.0f} {fake_us:>12.0f} "
        f"{ceiling:>10}  {every}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.whatsapp", description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sends", type=int, default=20_000, help="sends per run at 0 latency")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--webhooks", choices=("sqlite", "postgres", "both", "none"), default="both")
    args = parser.parse_args()
    for line in machine():
        print(line)
    print(f"client loop: {args.loop}; fake: a separate process on uvloop")
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if args.loop == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(bench(args.runs, args.sends))
    else:
        asyncio.run(bench(args.runs, args.sends))
    if args.webhooks != "none":
        from bench.webhooks import run_databases  # imported here: it imports this module

        print("webhook receiver (a `python -m bot serve` process, 64 POSTs in flight):")
        run_databases(args.webhooks, posts=6000, batch_posts=300)
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
