"""Rows/s and peak memory of the CSV contact import, a million rows into SQLite and PostgreSQL.

    python -m bench.csv_import [--rows 1000000] [--db sqlite|postgres|both] [--chunk-rows N] [--profile]

A CSV of ``--rows`` records is written to a temporary file: phone, name,
tags, opted_in and two attribute columns (city, plan). Numbers span four
countries; most are E.164, a tenth are spaced out and a twentieth use the
``00`` prefix. About 1 % of the rows are refused (not a number, no country
code, too short, ``opted_in`` unreadable, a bad tag, the wrong number of
fields) and 5 % repeat an earlier row's number with other tags (an update),
half of them from the same chunk, half from an earlier one.

Each engine gets a fresh database (a temporary SQLite file; a scratch
PostgreSQL database, dropped afterwards). The import runs in a child process
through ``herald.importer.run`` over the file's lines, cut as
``engine.importer.lines_of`` cuts a request body (the REST route reads and
checks rows the same way on a thread of its own and writes the same chunks
with ``Importer.write``), so the peak RSS
printed is the importing process's own high-water mark (``VmHWM``, which
includes starting Herald), with its RSS just before the import for scale.
Printed: rows/s over the whole file, peak RSS, the report's counts and the
counts the generator expected. ``--profile`` prints the top of a cProfile of
the child instead of timing it cleanly.

It prints figures and never asserts them: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.databases import scratch_database
from bench.whatsapp import machine

HEADER = "phone,name,tags,opted_in,city,plan\n"
COUNTRIES = ("+4479", "+9198", "+49151", "+55119")  # each followed by 8 digits: valid mobiles
SPACED = {"+4479": "+44 79", "+9198": "+91 98", "+49151": "+49 151", "+55119": "+55 11 9"}
TAGS = ("vip", "new", "gold", "diwali-2026", "b2b", "trial", "lapsed")
CITIES = ("London", "Pune", "Berlin", "São Paulo", "")
PLANS = ("free", "pro", "team", "")
INVALID = (  # (line text without the phone's own digits, why)
    "not-a-phone,Nobody,vip,yes,London,free",
    "07911123456,No Country,vip,,London,free",  # no country code
    "+4479123,Short,vip,,London,free",  # too short
    "{phone},Maybe,vip,maybe,London,free",  # opted_in unreadable
    "{phone},Bad Tag,bad tag!,,London,free",  # a tag with a space and a !
    "{phone},Too,many,fields,here,x,y",  # 7 fields, the header has 6
)
SAME_CHUNK, EARLIER = 7, 4000  # how far back a repeated number comes from


@dataclass
class Expected:
    rows: int = 0
    accepted: int = 0  # distinct valid numbers
    updated: int = 0  # valid rows repeating a number
    rejected: int = 0


def phone(number: int, style: int) -> str:
    """Number ``number`` written in one of twenty styles: 17 E.164, 2 spaced, 1 with 00."""
    prefix = COUNTRIES[number % 4]
    digits = f"{number // 4:08d}"
    style %= 20
    if style in (1, 2):
        return f"{SPACED[prefix]} {digits[:4]} {digits[4:]}"
    if style == 3:
        return "00" + prefix[1:] + digits
    return prefix + digits


def generate(path: Path, rows: int) -> Expected:
    """Write the CSV; returns the counts a correct import reports."""
    expected = Expected(rows=rows)
    seen: set[int] = set()  # the generator's own bookkeeping, not the importer's
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for i in range(rows):
            if i % 100 == 37:
                line = INVALID[(i // 100) % len(INVALID)].format(phone=phone(i, i))
                expected.rejected += 1
            else:
                number = i
                if i % 20 == 11 and i >= EARLIER:  # 5 % repeat an earlier row's number
                    back = SAME_CHUNK if (i // 20) % 2 else EARLIER
                    if (i - back) % 100 != 37:
                        number = i - back
                tags = ";".join({TAGS[i % 7]: None, TAGS[(i // 7) % 7]: None})
                opted = ("yes", "", "no", "")[i % 4] if i % 50 else "no"
                line = (
                    f'{phone(number, i // 20)},"Person {number}, the {i % 9}th",{tags},{opted},'
                    f"{CITIES[i % 5]},{PLANS[i % 4]}"
                )
                if number in seen:
                    expected.updated += 1
                else:
                    seen.add(number)
                    expected.accepted += 1
            out.write(line + "\n")
    return expected


def file_lines(path: Path) -> Iterator[str]:
    """The file's lines cut and decoded as the server cuts a request body's."""
    from engine.importer import lines_of

    with path.open("rb") as source:
        yield from lines_of(iter(lambda: source.read(2**16), b""))


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """This process's own high-water RSS (``VmHWM``).

    Not ``ru_maxrss``: on Linux that survives fork and exec, so the child
    would report the parent's RSS at fork time when that is higher (the
    generator's bookkeeping of a million numbers, ~117 MB).
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(url: str, csv_path: Path, chunk_rows: int, profile: bool) -> None:
    """Import the file into ``url``; print one JSON line of figures."""
    from bot.container import build
    from bot.settings import load_settings
    from engine.actor import API
    from engine.clock import ManualClock
    from engine.importer import Importer
    from storage.sql import execute

    settings = load_settings(database_url=url, log_level="WARNING")
    herald = build(settings, clock=ManualClock(datetime(2026, 11, 30, 8, 0, tzinfo=UTC)), direct_only=True)
    importer = Importer(herald.contacts, chunk_rows=chunk_rows) if chunk_rows else herald.importer
    before = rss_mb()
    profiler = cProfile.Profile() if profile else None
    cpu = time.process_time()
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    report = herald.in_db(importer.run, file_lines(csv_path), by=API)
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    peak = peak_rss_mb()
    contacts, links = herald.in_db(
        lambda: (
            execute(herald.database, "SELECT COUNT(*) FROM contact").fetchone()[0],
            execute(herald.database, "SELECT COUNT(*) FROM contact_tag").fetchone()[0],
        )
    )
    herald.close()
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(30)
        print(text.getvalue(), file=sys.stderr)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu": cpu,
                "rss_before_mb": before,
                "peak_rss_mb": peak,
                "accepted": report.accepted,
                "updated": report.updated,
                "rejected_total": report.rejected_total,
                "rejected_listed": len(report.rejected),
                "first_rejected": report.rejected[:3],
                "contacts": contacts,
                "contact_tags": links,
            }
        )
    )


def run(db: str, csv_path: Path, expected: Expected, chunk_rows: int, profile: bool) -> None:
    with scratch_database(db, "import") as url:
        command = [sys.executable, "-m", "bench.csv_import", "--child", url, str(csv_path)]
        command += ["--chunk-rows", str(chunk_rows)] + (["--profile"] if profile else [])
        done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
    rows = expected.rows
    exact = (figures["accepted"], figures["updated"], figures["rejected_total"]) == (
        expected.accepted,
        expected.updated,
        expected.rejected,
    )
    print(
        f"{db:<10} {rows:,} rows in {figures['seconds']:.1f} s: {rows / figures['seconds']:,.0f} rows/s"
        f" (importer CPU {figures['cpu']:.1f} s); peak RSS {figures['peak_rss_mb']:.0f} MB"
        f" ({figures['rss_before_mb']:.0f} MB before the import)"
    )
    print(
        f"{'':<10} accepted {figures['accepted']:,}, updated {figures['updated']:,},"
        f" rejected {figures['rejected_total']:,} ({figures['rejected_listed']:,} listed, first"
        f" {figures['first_rejected'][:1]}); {figures['contacts']:,} contacts, {figures['contact_tags']:,}"
        f" contact tags; {'as expected' if exact else 'EXPECTED'} {expected.accepted:,} /"
        f" {expected.updated:,} / {expected.rejected:,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--chunk-rows", type=int, default=0, help="0: the importer's default")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("URL", "CSV"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.chunk_rows, args.profile)
        return
    for line in machine():
        print(line)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    folder = Path(tempfile.mkdtemp(prefix="herald-bench-csv-"))
    csv_path = folder / "contacts.csv"
    try:
        started = time.perf_counter()
        expected = generate(csv_path, args.rows)
        print(
            f"CSV: {args.rows:,} rows, {csv_path.stat().st_size / 2**20:.0f} MB, written in"
            f" {time.perf_counter() - started:.1f} s"
        )
        for db in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
            run(db, csv_path, expected, args.chunk_rows, args.profile)
    finally:
        csv_path.unlink(missing_ok=True)
        folder.rmdir()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
