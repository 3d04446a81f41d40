"""What the messaging limit's room costs a send batch, in this process's CPU, without the noise of
a whole send: ``Limits.reserve`` for batches of 100 rows, with no limit and with one far above.

    python -m bench.governor [--db postgres|sqlite] [--batches 200] [--rounds 3]

Seeds 20,000 contacts in a scratch database, then for each round runs ``--batches`` batches of
100 candidates through ``reserve`` once with ``MESSAGING_LIMIT=unlimited`` and once with
10,000,000 (alternating, so drift hits both), and prints CPU µs and wall µs per row: the
Python side of each statement (building it, the driver, reading the answer) is what a worker
pays per send; the wall time includes the database's own work.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from bench.broadcast import load
from bench.databases import scratch_database
from bench.whatsapp import machine
from bot.container import build
from bot.settings import load_settings
from engine.clock import SystemClock
from engine.limit import Candidate, Limits
from storage.sql import insert_rows

CONTACTS = 20_000
BATCH = 100
VARIANTS = (("unlimited", (True, None)), ("10,000,000", (True, 10_000_000)))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.governor", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for line in machine():
        print(line)
    with scratch_database(args.db, "governor") as url:
        herald = build(load_settings(database_url=url, redis_url="redis://127.0.0.1:1/0"), direct_only=True)
        try:
            now = datetime.now(UTC)
            rows = [(f"+4479{i:08d}", "x", "{}", True, "active", now, now) for i in range(CONTACTS)]
            columns = ("phone", "name", "attributes", "opted_in", "status", "created_at", "updated_at")

            def seed() -> None:
                with herald.database.atomic():
                    insert_rows(herald.database, "contact", columns, rows)

            herald.in_db(seed)
            totals: dict[str, list[float]] = {label: [] for label, _ in VARIANTS}
            for round_ in range(args.rounds):
                for label, override in VARIANTS:
                    limits = Limits(herald.database, SystemClock(), override=override)

                    def run(limits: Limits = limits, round_: int = round_) -> tuple[float, float]:
                        cpu, wall = time.process_time(), time.perf_counter()
                        for b in range(args.batches):
                            first = (round_ * args.batches + b) * BATCH
                            batch = [Candidate(first + i, 1 + (first + i) % CONTACTS) for i in range(BATCH)]
                            limits.reserve(batch, datetime.now(UTC))
                        return time.process_time() - cpu, time.perf_counter() - wall

                    cpu, wall = herald.in_db(run)
                    per = 1e6 / (args.batches * BATCH)
                    totals[label].append(cpu * per)
                    print(
                        f"round {round_ + 1}, limit {label}: {cpu * per:.1f} µs CPU, {wall * per:.1f} µs wall a row; {load()}"
                    )
            for label, values in totals.items():
                print(f"limit {label}: {sum(values) / len(values):.1f} µs CPU a row, mean of {len(values)}")
        finally:
            herald.close()


if __name__ == "__main__":
    main()
