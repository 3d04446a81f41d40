"""Counts any process adds to (the server, the scheduler, a worker), read by ``/metrics``.

One row per (name, label); an add is one upsert per batch, so counts survive restarts and
add up across processes, which per-process Prometheus counters would not.
"""

from __future__ import annotations

from collections.abc import Mapping

import peewee

from storage.sql import fetchall, insert_rows

IGNORED_WEBHOOK_ITEMS = "webhook_items_ignored"


def add(database: peewee.Database, name: str, counts: Mapping[str, int]) -> None:
    rows = [(name, label, n) for label, n in sorted(counts.items()) if n]
    insert_rows(
        database,
        "counter",
        ("name", "label", "value"),
        rows,
        conflict="ON CONFLICT (name, label) DO UPDATE SET value = counter.value + excluded.value",
    )


def read(database: peewee.Database, name: str) -> dict[str, int]:
    """Every label of ``name`` with its count."""
    return {
        label: int(value)
        for label, value in fetchall(database, "SELECT label, value FROM counter WHERE name = ?", [name])
    }
