"""What one CSV-import chunk costs the PostgreSQL server, statement by statement.

    python -m bench.csv_import_explain [--rows 100000] [--chunk-rows 2000]

Imports ``--rows`` rows of the ``bench.csv_import`` CSV into a scratch
PostgreSQL database, then writes one more chunk with every INSERT, UPDATE
and SELECT it sends also run under ``EXPLAIN (ANALYZE, BUFFERS)`` inside a
savepoint that is rolled back (the statement then runs for real). Printed
per statement: server milliseconds (execution + planning), µs per row of
the chunk, rows, and the time in triggers. The server's own clock, so less
sensitive to other jobs than rows/s; a statement's parse time (reading the
array literals) is not included.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.csv_import import file_lines, generate
from bench.databases import scratch_database

_EXPLAINED = ("INSERT", "UPDATE", "SELECT", "WITH")


class _ExplainingCursor:
    """A cursor that explains each statement (rolled back) before running it."""

    def __init__(self, cursor: Any, plans: list[tuple[str, dict[str, Any]]]) -> None:
        self._cursor = cursor
        self._plans = plans

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def execute(self, sql: str | bytes, params: Any = None) -> Any:
        text = sql.decode() if isinstance(sql, bytes) else sql
        if text.lstrip().upper().startswith(_EXPLAINED):
            self._cursor.execute("SAVEPOINT bench_explain")
            self._cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + text, params)
            self._plans.append((" ".join(text.split())[:80], self._cursor.fetchone()[0][0]))
            self._cursor.execute("ROLLBACK TO SAVEPOINT bench_explain")
        return self._cursor.execute(sql, params)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--chunk-rows", type=int, default=2000)
    args = parser.parse_args()

    from bot.container import build
    from bot.settings import load_settings
    from engine.actor import SYSTEM
    from engine.clock import ManualClock
    from engine.importer import _Reader

    folder = Path(tempfile.mkdtemp(prefix="herald-bench-explain-"))
    csv_path = folder / "contacts.csv"
    try:
        generate(csv_path, args.rows + 2 * args.chunk_rows)
        lines = list(file_lines(csv_path))
        with scratch_database("postgres", "explain") as url:
            herald = build(
                load_settings(database_url=url, log_level="WARNING"),
                clock=ManualClock(datetime(2026, 11, 30, 8, 0, tzinfo=UTC)),
                direct_only=True,
            )
            herald.in_db(herald.importer.run, lines[: args.rows + 1], by=SYSTEM)
            with _Reader(iter([lines[0], *lines[args.rows + 1 :]]), args.chunk_rows) as reader:
                chunk = next(iter(reader)).rows
            plans: list[tuple[str, dict[str, Any]]] = []
            database = herald.database
            plain: Callable[..., Any] = database.cursor
            database.cursor = lambda *a, **k: _ExplainingCursor(plain(*a, **k), plans)  # type: ignore[method-assign]
            try:
                herald.in_db(herald.contacts.write, chunk, source="import")
            finally:
                database.cursor = plain  # type: ignore[method-assign]
            herald.close()
    finally:
        csv_path.unlink(missing_ok=True)
        folder.rmdir()
    rows, total = len(chunk), 0.0
    print(f"one chunk of {rows:,} rows after {args.rows:,}: server time per statement")
    for sql, plan in plans:
        ms = plan["Execution Time"] + plan["Planning Time"]
        total += ms
        print(
            f"{ms:8.2f} ms {1000 * ms / rows:6.1f} µs/row  rows {plan['Plan'].get('Actual Rows', 0):>6}  {sql}"
        )
        for trigger in plan.get("Triggers", []):
            print(f"{'':>30}trigger {trigger['Trigger Name']}: {1000 * trigger['Time'] / rows:.1f} µs/row")
    print(f"{total:8.2f} ms {1000 * total / rows:6.1f} µs/row  in all")


if __name__ == "__main__":
    main()
