"""Migrations: from an empty database, from the previous version, and in agreement with the models."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import peewee
import pytest

from storage.database import is_postgres, open_database
from storage.migrations import LATEST, MIGRATIONS, current_version, migrate
from storage.models import ALL_MODELS, bind


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    url = request.getfixturevalue("pg_url")
    database = open_database(url)
    with database.connection_context():
        database.execute_sql("DROP SCHEMA IF EXISTS migtest CASCADE")
        database.execute_sql("CREATE SCHEMA migtest")
    database.close_all()
    return url + "?options=-csearch_path%3Dmigtest"


def _open(url: str):
    if "options=" in url:  # a private schema on the shared test database
        base = url.split("?", 1)[0]
        database = open_database(base)
        database.connect_params["options"] = "-csearch_path=migtest"
        return database
    return open_database(url)


def test_an_empty_database_migrates_to_the_latest_version(empty_url: str) -> None:
    database = _open(empty_url)
    assert migrate(database) == [m.version for m in MIGRATIONS]
    with database.connection_context():
        assert current_version(database) == LATEST
    assert migrate(database) == []  # idempotent


def test_every_model_matches_the_migrated_schema(empty_url: str) -> None:
    database = _open(empty_url)
    migrate(database)
    with database.connection_context():
        for model in ALL_MODELS:
            table = model._meta.table_name
            columns = {c.name for c in database.get_columns(table)}
            fields = {f.column_name for f in model._meta.sorted_fields}
            assert fields == columns, f"{table}: models {sorted(fields)} vs schema {sorted(columns)}"


def test_the_latest_migration_applies_on_top_of_the_previous_version_with_data(
    empty_url: str,
) -> None:
    database = _open(empty_url)
    migrate(database, target=LATEST - 1)
    p = "%s" if is_postgres(database) else "?"
    with database.connection_context():
        assert current_version(database) == LATEST - 1
        database.execute_sql(
            f"INSERT INTO contact (phone, name, created_at, updated_at) VALUES ({p}, {p}, {p}, {p})",
            ("+919812345678", "Asha", "2026-01-01 00:00:00", "2026-01-01 00:00:00"),
        )
    assert migrate(database) == [LATEST]
    with database.connection_context():
        row = database.execute_sql("SELECT phone, name, opted_in, status FROM contact").fetchone()
    assert row[0] == "+919812345678"
    assert row[1] == "Asha"
    assert bool(row[2]) is True
    assert row[3] == "active"


def test_processes_starting_together_apply_each_migration_once(empty_url: str) -> None:
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(migrate(_open(empty_url)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    applied = sorted(v for r in results for v in r)
    assert applied == [m.version for m in MIGRATIONS]


def test_models_bind_and_query_on_a_fresh_schema(empty_url: str) -> None:
    database = _open(empty_url)
    migrate(database)
    bind(database)
    with database.connection_context():
        for model in ALL_MODELS:
            assert model.select().count() == 0


def test_contact_tag_keeps_its_links_key_and_index_and_loses_its_foreign_keys_on_postgres(
    empty_url: str,
) -> None:
    """The step that drops contact_tag's foreign keys (PostgreSQL only) keeps every link."""
    step = next(m for m in MIGRATIONS if m.name == "contact_tag_without_foreign_keys")
    database = _open(empty_url)
    migrate(database, target=step.version - 1)
    p = "%s" if is_postgres(database) else "?"
    at = "2026-01-01 00:00:00"
    with database.connection_context():
        database.execute_sql(
            f"INSERT INTO contact (phone, created_at, updated_at) VALUES ({p}, {p}, {p}), ({p}, {p}, {p})",
            ("+919812345678", at, at, "+919812345679", at, at),
        )
        database.execute_sql(
            f"INSERT INTO tag (name, created_at) VALUES ('vip', {p}), ('new', {p})", (at, at)
        )
        database.execute_sql(
            "INSERT INTO contact_tag (contact_id, tag_id, created_at)"
            f" SELECT c.id, t.id, {p} FROM contact c CROSS JOIN tag t",
            (at,),
        )
    assert migrate(database, target=step.version) == [step.version]
    with database.connection_context():
        links = database.execute_sql(
            "SELECT c.phone, t.name FROM contact_tag ct"
            " JOIN contact c ON c.id = ct.contact_id JOIN tag t ON t.id = ct.tag_id ORDER BY 1, 2"
        ).fetchall()
        assert links == [
            ("+919812345678", "new"),
            ("+919812345678", "vip"),
            ("+919812345679", "new"),
            ("+919812345679", "vip"),
        ]
        if is_postgres(database):
            keys = database.execute_sql(
                "SELECT contype, count(*) FROM pg_constraint WHERE conrelid = 'contact_tag'::regclass"
                " GROUP BY contype"
            ).fetchall()
            assert dict(keys) == {"p": 1}
        else:  # SQLite keeps its (cheap) foreign keys
            keys = database.execute_sql("PRAGMA foreign_key_list(contact_tag)").fetchall()
            assert sorted(row[2] for row in keys) == ["contact", "tag"]
        assert "contact_tag_by_tag" in {index.name for index in database.get_indexes("contact_tag")}
        with pytest.raises(peewee.IntegrityError), database.atomic():  # the key still holds
            database.execute_sql(
                "INSERT INTO contact_tag (contact_id, tag_id, created_at)"
                " SELECT contact_id, tag_id, created_at FROM contact_tag LIMIT 1"
            )


def test_no_code_deletes_contacts_or_tags() -> None:
    """contact_tag has no foreign keys on PostgreSQL (m0007): its links stay valid because
    contacts and tags are never deleted (a contact is soft-deleted through ``status``). A hard
    delete needs the links deleted in the same transaction, and this test changed with it."""
    root = Path(__file__).resolve().parents[1]
    deletes = re.compile(
        r"DELETE\s+FROM\s+\"?(contact|tag)\b(?!_)|\b(Contact|Tag)\.(delete|delete_by_id)\(|TRUNCATE\b",
        re.IGNORECASE,
    )
    found = [
        f"{path.relative_to(root)}: {match[0]}"
        for folder in ("bot", "engine", "storage")
        for path in sorted((root / folder).rglob("*.py"))
        for match in deletes.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []
