"""Bulk inserts as one array literal per column: every value arrives as it was sent, on both engines."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from storage.database import is_postgres, open_database
from storage.migrations import migrate
from storage.sql import array_literal, bind_time, fetchall, insert_rows

AWKWARD = ["", " ", '"', '""', "\\", '\\"', "a,b", "{x}", "NULL", "null", "a b", "é ☃ 🙂", "'", "\t\n", "}{,"]


def _slow(values: list) -> str:
    """The element-by-element literal the fast paths must equal."""
    out = []
    for value in values:
        if value is None:
            out.append("NULL")
        elif isinstance(value, bool):
            out.append("t" if value else "f")
        elif isinstance(value, int):
            out.append(str(value))
        else:
            out.append('"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(out) + "}"


def test_the_fast_literals_equal_the_element_by_element_one() -> None:
    rng = random.Random(7)
    alphabet = "ab,{}\"\\ 'é\n"
    for _ in range(300):
        strings = [
            "".join(rng.choice(alphabet) for _ in range(rng.randrange(6))) for _ in range(rng.randrange(1, 9))
        ]
        ints = [rng.randrange(-(2**40), 2**40) for _ in range(rng.randrange(1, 9))]
        bools = [rng.random() < 0.5 for _ in range(rng.randrange(1, 9))]
        for values in (strings, ints, bools, [*strings, None], [*ints, None], AWKWARD):
            assert array_literal(values) == _slow(values), values
    assert array_literal([]) == "{}"
    assert array_literal(iter(["a", "b"])) == '{"a","b"}'
    assert array_literal(["a\x00b", "c"]) == _slow(["a\x00b", "c"])  # no element boundary is lost


@pytest.mark.parametrize("typed", [True, False], ids=["arrays", "values"])
def test_insert_rows_keeps_awkward_text_nulls_and_constant_columns(database_url: str, typed: bool) -> None:
    database = open_database(database_url)
    migrate(database)
    now = datetime(2026, 11, 30, 8, 0, 0)
    names = [*AWKWARD, None]
    with database.connection_context():
        inserted = insert_rows(
            database,
            "contact",
            ("phone", "opt_out_source", "opted_in"),
            [(f"+44790000{i:04d}", name, i % 2 == 0) for i, name in enumerate(names)],
            returning="phone",
            types=("text", "text", "boolean") if typed else (),
            constants={"created_at": bind_time(database, now), "updated_at": bind_time(database, now)},
        )
        rows = fetchall(
            database, "SELECT phone, opt_out_source, opted_in, created_at, updated_at FROM contact"
        )
    assert len(inserted) == len(names)
    got = {phone: (source, bool(opted), str(c)[:19], str(u)[:19]) for phone, source, opted, c, u in rows}
    assert got == {
        f"+44790000{i:04d}": (name, i % 2 == 0, "2026-11-30 08:00:00", "2026-11-30 08:00:00")
        for i, name in enumerate(names)
    }
    if is_postgres(database):  # the server reads the literal back as the same list
        for values, pg_type in ((names, "text"), ([1, -(2**62), 0], "bigint"), ([True, False], "boolean")):
            literal = array_literal(values)
            assert fetchall(database, f"SELECT ?::{pg_type}[]", [literal])[0][0] == values
    database.close()
