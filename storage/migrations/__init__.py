"""Schema migrations: numbered SQL steps with a few dialect placeholders.

Each migration module holds ``STATEMENTS``, a list of SQL strings where
``$pk``, ``$id``, ``$ts``, ``$json``, ``$bool``, ``$true``, ``$false`` and
``$norowid`` are filled in per engine. A statement written as a pair
``("postgresql", sql)`` or ``("sqlite", sql)`` runs on that engine only; a
pair whose second part is a function ``(database) -> None`` runs that
function instead (a change SQL alone cannot make on that engine).
Migrations are applied in order, each in its own transaction together with
its row in ``schema_version``, under a lock so that several processes
starting at once apply each step exactly once.
Applied migrations are never edited; a change is a new step.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from string import Template
from types import ModuleType

import peewee

from storage.database import is_postgres
from storage.errors import MigrationError

_LOCK_KEY = 0x48455241  # "HERA": advisory lock id on PostgreSQL

_DIALECTS = {
    "sqlite": {
        "pk": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "id": "INTEGER",
        "ts": "TIMESTAMP",
        "json": "TEXT",
        "bool": "BOOLEAN",
        "true": "1",
        "false": "0",
        "norowid": "WITHOUT ROWID",
    },
    "postgresql": {
        "pk": "BIGSERIAL PRIMARY KEY",
        "id": "BIGINT",
        "ts": "TIMESTAMP",
        "json": "TEXT",
        "bool": "BOOLEAN",
        "true": "TRUE",
        "false": "FALSE",
        "norowid": "",
    },
}


Step = Callable[[peewee.Database], None]
Statement = str | tuple[str, str] | tuple[str, Step]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[Statement, ...]


def _load() -> tuple[Migration, ...]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        match = re.fullmatch(r"m(\d{4})_(\w+)", info.name)
        if not match:
            continue
        module: ModuleType = importlib.import_module(f"{__name__}.{info.name}")
        found.append(Migration(int(match[1]), match[2], tuple(module.STATEMENTS)))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise MigrationError(f"migration {expected:04d} is missing")
    return tuple(found)


MIGRATIONS = _load()
LATEST = MIGRATIONS[-1].version if MIGRATIONS else 0


def render(statement: Statement, database: peewee.Database) -> str | Step | None:
    """The statement in this engine's dialect (or its function); None when it is for the other
    engine."""
    dialect = "postgresql" if is_postgres(database) else "sqlite"
    if isinstance(statement, tuple):
        engine, body = statement
        if engine not in _DIALECTS:
            raise MigrationError(f"unknown engine {engine!r}: write 'postgresql' or 'sqlite'")
        if engine != dialect:
            return None
        if callable(body):
            return body
        statement = body
    assert isinstance(statement, str)
    return Template(statement).substitute(_DIALECTS[dialect])


def current_version(database: peewee.Database) -> int:
    """The newest applied migration, 0 for an empty database."""
    if not database.table_exists("schema_version"):
        return 0
    row = database.execute_sql("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(database: peewee.Database, target: int | None = None) -> list[int]:
    """Apply every migration up to ``target`` (default: all). Returns the versions applied.

    Raises MigrationError when a step fails; that step is rolled back whole.
    """
    target = LATEST if target is None else target
    applied: list[int] = []
    with database.connection_context():
        _ensure_version_table(database)
        for migration in MIGRATIONS:
            if migration.version > target:
                break
            if _apply(database, migration):
                applied.append(migration.version)
    return applied


def _ensure_version_table(database: peewee.Database) -> None:
    with database.atomic():
        if is_postgres(database):
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        database.execute_sql(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL"
            " DEFAULT CURRENT_TIMESTAMP)"
        )


def _apply(database: peewee.Database, migration: Migration) -> bool:
    param = "%s" if is_postgres(database) else "?"
    try:
        with database.atomic():
            if is_postgres(database):
                database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            done = database.execute_sql(
                f"SELECT 1 FROM schema_version WHERE version = {param}", (migration.version,)
            ).fetchone()
            if done:
                return False
            for statement in migration.statements:
                sql = render(statement, database)
                if callable(sql):
                    sql(database)
                elif sql is not None:
                    database.execute_sql(sql)
            database.execute_sql(
                f"INSERT INTO schema_version (version, name) VALUES ({param}, {param})",
                (migration.version, migration.name),
            )
    except peewee.DatabaseError as exc:
        raise MigrationError(f"migration {migration.version:04d}_{migration.name} failed: {exc}") from exc
    return True
