"""Due-step throughput of sequences, and the tick's claim query at a million enrollments.

    python -m bench.sequences [--enrollments 100000] [--claim-rows 1000000] [--db sqlite|postgres|both]

1. Throughput: ``--enrollments`` active enrollments all due at once, on a
   two-step path (a message step, then a delay). The tick claims them and
   dispatches batches of 100 to the direct-processing pool (the same jobs a
   worker runs); each job decides and writes the moves. Printed: steps/s
   claimed and dispatched, and steps/s completed (enrollments that moved on
   and queued their message), end to end.
2. The claim: ``--claim-rows`` enrollments of which 1 % are due; the time of
   one ``claim_due`` statement as the tick runs it (``CLAIM_CHUNK`` rows; a
   tick repeats it up to its per-tick limit), median of 5.

It prints figures and never asserts them.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from bench.databases import scratch_database
from bench.whatsapp import machine
from bot.container import Herald, build
from bot.settings import load_settings
from engine.actor import SYSTEM
from engine.clock import ManualClock
from engine.sequences.runner import CLAIM_CHUNK
from storage import sequences as store
from storage.fields import to_db_time
from storage.sql import execute, insert_rows

DEFINITION = {
    "name": "bench",
    "trigger": {"type": "manual"},
    "steps": [
        {"id": "hello", "type": "message", "template": "thank_you"},
        {"id": "later", "type": "delay", "days": 3},
        {"id": "bye", "type": "message", "template": "thank_you"},
    ],
}


def seed_enrollments(herald: Herald, count: int, *, due_share: float, now: datetime) -> None:
    """``count`` contacts, each enrolled; ``due_share`` of them due now, the rest in a week."""
    db = herald.database
    ts = to_db_time(now)
    later = to_db_time(now + timedelta(days=7))
    due_every = max(1, round(1 / due_share)) if due_share < 1 else 1
    with db.atomic():
        for start in range(0, count, 50_000):
            rows = [
                (f"+4479{i:08d}", f"Person {i}", ts, ts) for i in range(start, min(count, start + 50_000))
            ]
            insert_rows(db, "contact", ("phone", "name", "created_at", "updated_at"), rows)
        sequence_id, version_id = 1, 1
        execute(
            db,
            "INSERT INTO enrollment (sequence_id, version_id, contact_id, status, current_step, next_run_at,"
            " step_started_at, source, enrolled_at)"
            " SELECT ?, ?, id, 'active', 'hello', CASE WHEN id % ? = 0 THEN ? ELSE ? END, ?, 'bench', ?"
            " FROM contact",
            [sequence_id, version_id, due_every, ts, later, ts, ts],
        )


def setup(url: str) -> tuple[Herald, ManualClock]:
    clock = ManualClock(datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
    settings = load_settings(database_url=url, log_level="WARNING", worker_threads=8)
    herald = build(settings, clock=clock, direct_only=True)
    herald.in_db(herald.template_sync.run, by=SYSTEM)

    def prepare() -> None:
        herald.sequences.create(DEFINITION, by=SYSTEM)
        herald.sequences.activate("bench", by=SYSTEM)

    herald.in_db(prepare)
    return herald, clock


def throughput(db: str, count: int) -> None:
    with scratch_database(db, "seq_steps") as url:
        herald, clock = setup(url)
        herald.in_db(seed_enrollments, herald, count, due_share=1.0, now=clock.now())
        runner = herald.runner
        runner.per_tick = count
        started = time.perf_counter()
        report = herald.in_db(runner.tick)
        dispatched = time.perf_counter() - started
        herald.dispatcher.drain(timeout=3600)
        done = time.perf_counter() - started
        moved = herald.in_db(
            lambda: execute(
                herald.database,
                "SELECT COUNT(*) FROM enrollment WHERE current_step = 'hello' AND next_run_at IS NULL",
            ).fetchone()[0]
        )
        queued = herald.in_db(
            lambda: execute(herald.database, "SELECT COUNT(*) FROM outbound_message").fetchone()[0]
        )
        print(
            f"{db:<10} {count:,} due steps: claimed and dispatched {report.claimed / dispatched:,.0f}/s"
            f" ({dispatched:.2f} s); completed {moved / done:,.0f} steps/s end to end ({done:.2f} s);"
            f" {queued:,} messages queued"
        )
        herald.close()


def claim(db: str, rows: int) -> None:
    with scratch_database(db, "seq_claim") as url:
        herald, clock = setup(url)
        herald.in_db(seed_enrollments, herald, rows, due_share=0.01, now=clock.now())
        database = herald.database
        herald.in_db(lambda: execute(database, "ANALYZE"))
        timings = []
        for _ in range(5):
            now = clock.now()
            started = time.perf_counter()
            with database.connection_context(), database.atomic() as txn:
                ids = store.claim_due(database, now, now + timedelta(minutes=5), CLAIM_CHUNK)
                txn.rollback()  # measure the same claim each time
            timings.append(time.perf_counter() - started)
        print(
            f"{db:<10} claim of {len(ids):,} due among {rows:,} enrollments: median"
            f" {statistics.median(timings) * 1000:.1f} ms (runs {', '.join(f'{t * 1000:.0f}' for t in timings)} ms)"
        )
        herald.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--enrollments", type=int, default=100_000)
    parser.add_argument("--claim-rows", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    for line in machine():
        print(line)
    engines = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for db in engines:
        throughput(db, args.enrollments)
    for db in engines:
        claim(db, args.claim_rows)


if __name__ == "__main__":
    main()
