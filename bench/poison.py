"""How long an inbox with poison bodies in it takes to drain, on SQLite and PostgreSQL.

    python -m bench.poison [--good 5000] [--poison 50] [--db sqlite|postgres|both]

A real `python -m bot serve` (direct mode, so its own tick runs every second) and a
ledger of sent messages, some of whose rows the database refuses to update (a trigger:
what a corrupt row or a constraint Herald cannot meet looks like to the apply). This
process posts ``--good`` single-status webhooks for healthy rows with ``--poison``
webhooks naming a refused row spread among them, 64 in flight. Printed: when every
good status was applied (the poison ones never held them back), and when the inbox
was empty (every poison body retried alone five times, once per tick, and set aside
in the quarantine). It prints figures; it never asserts them.
"""

from __future__ import annotations

import argparse
import os
import random
import time

from bench.databases import scratch_database
from bench.webhooks import bodies, load, post_all, seed, server, wait_applied
from bench.whatsapp import machine
from storage.database import is_postgres, open_database

POISONED = 10  # ledger rows whose updates the database refuses


def _poison(url: str, rows: int) -> None:
    database = open_database(url)
    ids = ",".join(str(rows - i) for i in range(POISONED))  # the last rows: never posted as good
    statements = (
        [
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN IF OLD.id IN ({ids}) THEN"
            " RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse BEFORE UPDATE ON outbound_message FOR EACH ROW EXECUTE FUNCTION refuse()",
        ]
        if is_postgres(database)
        else [
            "CREATE TRIGGER refuse BEFORE UPDATE ON outbound_message WHEN OLD.id IN ({ids})"
            " BEGIN SELECT RAISE(ABORT, 'refused'); END"
        ]
    )
    with database.connection_context(), database.atomic():
        for sql in statements:
            database.execute_sql(sql.format(ids=ids))
    if hasattr(database, "close_all"):
        database.close_all()


def _inbox_empty(url: str) -> bool:
    database = open_database(url)
    with database.connection_context():
        row = database.execute_sql("SELECT COUNT(*) FROM webhook_inbox").fetchone()
    if hasattr(database, "close_all"):
        database.close_all()
    return int(row[0]) == 0


def run(url: str, name: str, good: int, poison: int) -> None:
    rows = good + POISONED
    seed(url, rows)
    _poison(url, rows)
    payloads = bodies(0, good, 1, "delivered")
    bad = bodies(rows - POISONED, POISONED, 1, "delivered")
    mixed = list(payloads)
    rng = random.Random(7)
    for i in range(poison):
        mixed.insert(rng.randrange(len(mixed) + 1), bad[i % POISONED])
    with server(url) as serve:
        started = time.perf_counter()
        seconds, _ = post_all(serve.base, mixed, "raw")
        good_done = wait_applied(url, "delivered_at", good, started)
        while not _inbox_empty(url):
            time.sleep(0.05)
        drained = time.perf_counter() - started
    print(
        f"{name:<10} {good:,} good + {poison} poison bodies posted in {seconds:.1f} s;"
        f" every good status applied after {good_done:.1f} s; inbox empty (poison quarantined)"
        f" after {drained:.1f} s  [{load()}]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--good", type=int, default=5000)
    parser.add_argument("--poison", type=int, default=50)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    for line in machine():
        print(line)
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    for engine in ("sqlite", "postgres"):
        if args.db in (engine, "both"):
            with scratch_database(engine, "poison") as url:
                run(url, "postgresql" if engine == "postgres" else engine, args.good, args.poison)


if __name__ == "__main__":
    main()
