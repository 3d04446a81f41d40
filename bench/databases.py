"""A throwaway database for one benchmark run: a temporary SQLite file, or a scratch PostgreSQL database."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from storage.database import open_database

PG_ADMIN = os.environ.get("HERALD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _admin(sql: str) -> None:
    admin = open_database(PG_ADMIN)
    with admin.connection_context():
        admin.execute_sql(sql)
    admin.close_all()  # type: ignore[attr-defined]


@contextlib.contextmanager
def scratch_database(db: str, tag: str) -> Iterator[str]:
    """The URL of a fresh, empty database (``db`` is sqlite or postgres), removed afterwards."""
    if db == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix=f"herald-bench-{tag}-"))
        try:
            yield f"sqlite:///{folder / 'bench.db'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    name = f"herald_bench_{tag}_{os.getpid()}"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
