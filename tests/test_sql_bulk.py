"""Bulk statements of storage.sql on both engines: ``update_rows`` with its array form."""

from __future__ import annotations

from datetime import datetime

import peewee
import pytest

from bot.container import Herald
from storage.database import is_postgres
from storage.sql import array_literal, fetchall, insert_rows, update_rows

T1 = datetime(2026, 11, 30, 8, 0, 0, 123456)
T2 = datetime(2026, 11, 30, 9, 30, 0)
AWKWARD = ['a "quoted" \\ back,slash {x} é', "", "NULL", None]


def _table(database: peewee.Database) -> None:
    database.execute_sql(
        "CREATE TEMP TABLE bulk (id INTEGER PRIMARY KEY, state TEXT, note TEXT, at TIMESTAMP,"
        " n INTEGER, batch TEXT, version INTEGER)"
    )
    insert_rows(
        database,
        "bulk",
        ("id", "state", "note", "at", "n", "batch", "version"),
        [(i, "old", "keep", T1, i, "b", 1) for i in range(1, 7)],
    )


def _rows(database: peewee.Database) -> list[tuple]:
    rows = fetchall(database, "SELECT id, state, note, at, n, batch, version FROM bulk ORDER BY id")
    return [(*r[:3], _time(r[3]), *r[4:]) for r in rows]


def _time(value: datetime | str | None) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


@pytest.mark.parametrize("arrays", [False, True])
def test_update_rows_sets_the_keyed_rows_only_whatever_the_values(herald: Herald, arrays: bool) -> None:
    database = herald.database
    with database.connection_context(), database.atomic():
        _table(database)
        update_rows(
            database,
            "bulk",
            "id",
            ("state", "note", "at", "n"),
            [
                (i, "new", AWKWARD[i - 1], T2 if i % 2 else None, None if i == 2 else 10 * i, 1)
                for i in (1, 2, 3, 4)
            ],
            casts=("integer", "text", "text", "timestamp", "integer", "integer"),
            literals={"batch": "NULL"},
            where="bulk.state = 'old'",
            match=[("version", "version")],
            arrays=arrays,
        )
        # the last row's version does not match: left alone, as are rows 5 and 6, not listed
        update_rows(
            database,
            "bulk",
            "id",
            ("state",),
            [(5, "late", 2)],
            casts=("integer", "text", "integer"),
            match=[("version", "version")],
            arrays=arrays,
        )
        assert _rows(database) == [
            (1, "new", AWKWARD[0], T2, 10, None, 1),
            (2, "new", "", None, None, None, 1),
            (3, "new", "NULL", T2, 30, None, 1),
            (4, "new", None, None, 40, None, 1),
            (5, "old", "keep", T1, 5, "b", 1),
            (6, "old", "keep", T1, 6, "b", 1),
        ]
        database.execute_sql("DROP TABLE bulk")


def test_the_array_form_wants_a_cast_for_every_value(herald: Herald) -> None:
    database = herald.database
    if not is_postgres(database):
        pytest.skip("SQLite binds each value; it has no array form")
    with database.connection_context(), database.atomic():
        _table(database)
        with pytest.raises(ValueError, match="cast"):
            update_rows(database, "bulk", "id", ("state",), [(1, "x")], casts=("integer",), arrays=True)
        database.execute_sql("DROP TABLE bulk")


def test_an_array_literal_carries_every_kind_of_value() -> None:
    assert array_literal([None, 'a"b\\c', "x,y", "", True, False, 7, T2]) == (
        '{NULL,"a\\"b\\\\c","x,y","",t,f,7,"2026-11-30 09:30:00"}'
    )
