"""Raw, set-based SQL for hot paths, written once for both engines.

Statements are written with ``?`` placeholders; on PostgreSQL they become
``%s``. Bulk helpers use multi-row VALUES on SQLite and psycopg2's
``execute_values`` on PostgreSQL, so a chunk of a thousand rows is one round
trip on either engine.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import peewee
from psycopg2.extras import execute_values

from storage.database import is_postgres
from storage.fields import to_db_time

# Driver errors from a raw cursor re-raised as peewee's (IntegrityError, OperationalError, ...),
# as execute_sql does, so callers catch one family whichever path ran the statement.
_AS_PEEWEE_ERRORS = peewee.__exception_wrapper__  # type: ignore[attr-defined]
SQLITE_MAX_PARAMS = 30000  # SQLite >= 3.32 allows 32766 bound parameters


def q(database: peewee.Database, sql: str) -> str:
    """Adapt ``?`` placeholders to the engine's paramstyle."""
    if not is_postgres(database):
        return sql
    return sql.replace("%", "%%").replace("?", "%s")  # a literal % (modulo, LIKE) is %% to psycopg2


def bind_time(database: peewee.Database, value: datetime) -> datetime | str:
    """A naive-UTC timestamp to bind: on SQLite already the text the datetime adapter would
    make of it, so a bulk insert does not call the adapter once per row."""
    value = to_db_time(value)
    return value if is_postgres(database) else value.isoformat(" ")


def execute(database: peewee.Database, sql: str, params: Sequence[Any] = ()) -> Any:
    return database.execute_sql(q(database, sql), tuple(params))


def fetchall(database: peewee.Database, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    return list(execute(database, sql, params).fetchall())


def in_list(database: peewee.Database, values: Sequence[Any], *, pg_type: str = "") -> tuple[str, list[Any]]:
    """An ``IN`` predicate body and its parameters: ``= ANY(%s)`` on PostgreSQL.

    With ``pg_type`` the values go to PostgreSQL as one array literal of that
    type (see ``array_literal``): cheaper for the server than thousands of
    ``ARRAY[...]`` elements.
    """
    if is_postgres(database):
        if pg_type:
            return f"= ANY(?::{pg_type}[])", [array_literal(values)]
        return "= ANY(?)", [list(values)]
    return f"IN ({','.join('?' * len(values))})", list(values)


@contextlib.contextmanager
def sqlite_cache(database: peewee.Database, kib: int) -> Iterator[None]:
    """Cap this connection's SQLite page cache at ``kib`` KiB while the block runs, then restore it.

    A long import reads every page of the contact indexes once; left at the
    usual size, the cache alone would be most of the importing process's memory.
    """
    if is_postgres(database):
        yield
        return
    before = int(database.execute_sql("PRAGMA cache_size").fetchone()[0])
    database.execute_sql(f"PRAGMA cache_size = {-abs(int(kib))}")
    try:
        yield
    finally:
        database.execute_sql(f"PRAGMA cache_size = {before}")


def chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def insert_rows(
    database: peewee.Database,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    returning: str = "",
    conflict: str = "",
    types: Sequence[str] = (),
    constants: Mapping[str, Any] | None = None,
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` in as few statements as the engine allows.

    ``conflict`` is an ``ON CONFLICT ...`` clause; ``returning`` a column list.
    Returns the RETURNING rows (only the rows actually inserted, when a
    conflict clause skips some). ``types`` (the PostgreSQL type of each
    column) sends the rows as one array per column, unnested by the server:
    one short statement however many rows, cheaper to build and to parse
    than a VALUES list. ``constants`` are columns with one value for every
    row (a timestamp), bound once on PostgreSQL with ``types``.
    """
    if not rows:
        return []
    fixed = dict(constants or {})
    cols = ", ".join([*columns, *fixed])
    tail = f" {conflict}" if conflict else ""
    tail += f" RETURNING {returning}" if returning else ""
    if is_postgres(database) and types:
        arrays = ", ".join(f"%s::{t}[]" for t in types)
        select = ", ".join(["*", *(["%s"] * len(fixed))])
        with _AS_PEEWEE_ERRORS:
            cursor = database.cursor()
            cursor.execute(
                f"INSERT INTO {table} ({cols}) SELECT {select} FROM unnest({arrays}){tail}",
                [*fixed.values(), *(array_literal(column) for column in zip(*rows, strict=True))],
            )
            return list(cursor.fetchall()) if returning else []
    if fixed:
        rows = [(*row, *fixed.values()) for row in rows]
    width = len(columns) + len(fixed)
    if is_postgres(database):
        sql = f"INSERT INTO {table} ({cols}) VALUES %s{tail}"
        with _AS_PEEWEE_ERRORS:
            result = execute_values(database.cursor(), sql, rows, page_size=1000, fetch=bool(returning))
        return list(result or [])
    out: list[tuple[Any, ...]] = []
    per = max(1, SQLITE_MAX_PARAMS // width)
    one = "(" + ",".join("?" * width) + ")"
    for part in chunks(rows, per):
        sql = f"INSERT INTO {table} ({cols}) VALUES {','.join([one] * len(part))}{tail}"
        cursor = database.execute_sql(sql, [v for row in part for v in row])
        if returning:
            out.extend(cursor.fetchall())
    return out


_BOOL = {True: "t", False: "f"}


def array_literal(values: Iterable[Any]) -> str:
    """A PostgreSQL array as one text literal (``{1,"a b",NULL}``), bound as a single string.

    psycopg2 would send a list as ``ARRAY[...]`` with every element an
    expression the server parses and plans; the literal is read by the array
    type's input function instead, several times faster for thousands of rows.
    A column of only ints, or of only strings, is built with a few C-level
    joins and replaces instead of a Python step per element.
    """
    items = values if isinstance(values, list | tuple) else list(values)
    if not items:
        return "{}"
    kinds = set(map(type, items))
    if kinds == {int}:
        return "{" + ",".join(map(str, items)) + "}"
    if kinds == {bool}:
        return "{" + ",".join(map(_BOOL.__getitem__, items)) + "}"
    if kinds == {str}:
        # NUL (which no PostgreSQL text can hold) separates the elements while the quotes
        # and backslashes in them are escaped, then becomes the "," between quoted elements.
        text = "\x00".join(items)
        if text.count("\x00") == len(items) - 1:
            return "{" + _quoted(text).replace("\x00", '","') + "}"
    out = []
    for value in items:
        if value is None:
            out.append("NULL")
        elif type(value) is str:  # the common case first: a webhook body, a wamid
            out.append(_quoted(value))
        elif isinstance(value, bool):
            out.append("t" if value else "f")
        elif isinstance(value, int):
            out.append(str(value))
        else:
            text = value.isoformat(" ") if isinstance(value, datetime) else str(value)
            out.append(_quoted(text))
    return "{" + ",".join(out) + "}"


def _quoted(text: str) -> str:
    """One array element in double quotes, its backslashes and quotes escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def update_rows(
    database: peewee.Database,
    table: str,
    key: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    casts: Sequence[str] = (),
    literals: dict[str, str] | None = None,
    where: str = "",
    match: Sequence[tuple[str, str]] = (),
    arrays: bool = False,
) -> None:
    """``UPDATE table SET col = value ... WHERE key = row[0]`` for every row.

    Each row is ``(key, *values)`` in ``columns`` order; one statement per
    thousand rows on PostgreSQL, one prepared statement on SQLite.
    ``literals`` sets columns to fixed SQL expressions (``{"batch": "NULL"}``);
    ``where`` adds a condition on the table's own columns, written with the
    table name (``"outbound_message.state = 'sending'"``). ``casts`` gives
    PostgreSQL the type of each of ``(key, *columns, *match values)`` (a
    VALUES list of NULLs is otherwise typed as text). ``match`` pairs (value
    name, table column) add per-row conditions: each row then ends with those
    values, and only rows whose column still equals them are updated.

    ``arrays`` (PostgreSQL, with ``casts``) sends the rows as one array per
    column, unnested by the server, and names the keys once more as an
    array the primary key index can look up: one short statement however
    many rows, cheaper to build and to parse than a VALUES list, and a plan
    that reads only the rows updated (joined to a VALUES list, a table of a
    few tens of thousands of rows is read whole, for a hash join).
    """
    if not rows:
        return
    fixed = [f"{c} = {expr}" for c, expr in (literals or {}).items()]
    extra = f" AND {where}" if where else ""
    if is_postgres(database):
        fields = [key, *columns, *(name for name, _ in match)]
        extra += "".join(f" AND {table}.{column} = v.{name}" for name, column in match)
        sets = ", ".join([*(f"{c} = v.{c}" for c in columns), *fixed])
        if arrays:
            if len(casts) != len(fields):
                raise ValueError(f"arrays needs a cast for each of {', '.join(fields)}")
            unnest = ", ".join(f"%s::{c}[]" for c in casts)
            sql = (
                f"UPDATE {table} SET {sets} FROM unnest({unnest}) AS v({', '.join(fields)})"
                f" WHERE {table}.{key} = v.{key} AND {table}.{key} = ANY(%s::{casts[0]}[]){extra}"
            )
            columns_of_rows = list(zip(*rows, strict=True))
            with _AS_PEEWEE_ERRORS:
                database.cursor().execute(
                    sql, [*(array_literal(c) for c in columns_of_rows), array_literal(columns_of_rows[0])]
                )
            return
        sql = (
            f"UPDATE {table} SET {sets} FROM (VALUES %s) AS v({', '.join(fields)})"
            f" WHERE {table}.{key} = v.{key}{extra}"
        )
        template = None
        if casts:
            template = "(" + ", ".join(f"%s::{c}" if c else "%s" for c in casts) + ")"
        with _AS_PEEWEE_ERRORS:
            execute_values(database.cursor(), sql, rows, template=template, page_size=1000)
        return
    sets = ", ".join([*(f"{c} = ?" for c in columns), *fixed])
    conditions = "".join(f" AND {column} = ?" for _, column in match)
    sql = f"UPDATE {table} SET {sets} WHERE {key} = ?{extra}{conditions}"
    width = len(columns)
    with _AS_PEEWEE_ERRORS:
        database.cursor().executemany(sql, [(*row[1 : 1 + width], row[0], *row[1 + width :]) for row in rows])


def update_from(
    database: peewee.Database,
    table: str,
    values: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
    *,
    sets: str,
    where: str,
    returning: str = "",
    key: str = "",
) -> list[tuple[Any, ...]]:
    """``UPDATE table SET <sets> FROM v WHERE <where>`` with ``v`` the given rows.

    ``values`` names each column of ``rows`` with its PostgreSQL type; ``sets``
    and ``where`` are SQL over ``v.<column>`` and the table's own columns, so a
    SET can merge the new value with the stored one as the update finds it
    (``CASE WHEN v.at < t.at ...``): what no read-then-write can do safely
    with another writer at work. The first column holds values of the
    table's column ``key`` (default: the same name), which PostgreSQL looks
    up through its index; the rows should come sorted by it, so PostgreSQL
    locks them in that order.
    On PostgreSQL the rows go as one array per column (one statement); on
    SQLite as a VALUES list in a common table expression. Returns the
    ``returning`` rows (columns of the table only, on SQLite).
    """
    if not rows:
        return []
    names = ", ".join(name for name, _ in values)
    tail = f" RETURNING {returning}" if returning else ""
    key = key or values[0][0]
    if is_postgres(database):
        columns = list(zip(*rows, strict=True))
        unnest = ", ".join(f"%s::{pg_type}[]" for _, pg_type in values)
        sql = (
            f"UPDATE {table} SET {sets} FROM unnest({unnest}) AS v({names})"
            f" WHERE {table}.{key} = ANY(%s::{values[0][1]}[]) AND {where}{tail}"
        )
        with _AS_PEEWEE_ERRORS:
            cursor = database.cursor()
            cursor.execute(sql, [*(array_literal(c) for c in columns), array_literal(columns[0])])
            return list(cursor.fetchall()) if returning else []
    out: list[tuple[Any, ...]] = []
    one = "(" + ",".join("?" * len(values)) + ")"
    for part in chunks(rows, SQLITE_MAX_PARAMS // len(values)):
        sql = (
            f"WITH v({names}) AS (VALUES {','.join([one] * len(part))})"
            f" UPDATE {table} SET {sets} FROM v WHERE {where}{tail}"
        )
        cursor = database.execute_sql(sql, [x for row in part for x in row])
        if returning:
            out.extend(cursor.fetchall())
    return out
