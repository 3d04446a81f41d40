"""Small builders shared by scenario tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from bot.container import Herald
from engine.contacts import ContactRow
from engine.whatsapp.parameters import ParameterMapping, compile_parameters

PROMO = {
    "name": "promo_autumn",
    "language": "en",
    "category": "MARKETING",
    "status": "APPROVED",
    "components": [{"type": "BODY", "text": "Hi {{1}}, autumn deals are here."}],
}
ORDER = {
    "name": "order_update",
    "language": "en",
    "category": "UTILITY",
    "status": "APPROVED",
    "components": [{"type": "BODY", "text": "Hi {{1}}, your order has shipped."}],
}
WELCOME = {
    "name": "welcome_offer",
    "language": "en",
    "category": "MARKETING",
    "status": "APPROVED",
    "parameter_format": "NAMED",
    "components": [{"type": "BODY", "text": "Welcome {{first_name}}! Use {{coupon}}."}],
}
PENDING = {
    "name": "promo_winter",
    "language": "en",
    "category": "MARKETING",
    "status": "PENDING",
    "components": [{"type": "BODY", "text": "Winter is coming."}],
}


def seed_templates(herald: Herald, *templates: dict[str, Any]) -> None:
    with herald.database.connection_context():
        for t in templates or (PROMO, ORDER, WELCOME, PENDING):
            herald.templates.upsert(**t)


def seed_contacts(herald: Herald, rows: list[tuple[str, list[str]]], **kwargs: Any) -> list[int]:
    """Contacts by (phone, tags); returns their ids in order."""
    with herald.database.connection_context():
        result = herald.contacts.write(
            [
                ContactRow(phone=p, tags=tuple(t), name=f"Person {i}", **kwargs)
                for i, (p, t) in enumerate(rows)
            ],
            source="test",
        )
    return [result.ids[i] for i in range(len(rows))]


def build_components(
    parameters: list[dict[str, Any]],
    parameter_format: str | None,
    name: str,
    attributes: dict[str, Any] | None = None,
    mapping: ParameterMapping = None,
) -> list[dict[str, Any]]:
    """The Graph ``components`` for one contact, as the send pipeline builds them."""
    return compile_parameters(parameters, parameter_format, mapping).fill(name, attributes)


def phones(n: int, start: int = 0, prefix: str = "+4479110") -> list[str]:
    """``n`` distinct valid UK mobile numbers."""
    return [f"{prefix}{start + i:05d}" for i in range(n)]


def ledger_orphans(herald: Herald) -> list[tuple[int, str]]:
    """Ledger rows whose broadcast, enrollment, step, contact or template is not there, or whose
    template is not their broadcast's: (row id, what is wrong). On PostgreSQL the ledger has no
    foreign keys (migration 0006), so scenario tests check this instead."""
    checks = {
        "no contact": "NOT EXISTS (SELECT 1 FROM contact c WHERE c.id = m.contact_id)",
        "no template": "NOT EXISTS (SELECT 1 FROM template t WHERE t.id = m.template_id)",
        "no broadcast": "m.broadcast_id IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM broadcast b WHERE b.id = m.broadcast_id)",
        "not the broadcast's template": "EXISTS (SELECT 1 FROM broadcast b"
        " WHERE b.id = m.broadcast_id AND b.template_id <> m.template_id)",
        "no enrollment": "m.enrollment_id IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM enrollment e WHERE e.id = m.enrollment_id)",
        "not the enrollment's contact": "EXISTS (SELECT 1 FROM enrollment e"
        " WHERE e.id = m.enrollment_id AND e.contact_id <> m.contact_id)",
        "neither broadcast nor step": "(m.broadcast_id IS NULL) = (m.enrollment_id IS NULL)"
        " OR (m.enrollment_id IS NOT NULL AND m.step_id IS NULL)",
    }
    found: list[tuple[int, str]] = []
    with herald.database.connection_context():
        for what, condition in checks.items():
            cursor = herald.database.execute_sql(f"SELECT m.id FROM outbound_message m WHERE {condition}")
            found += [(row[0], what) for row in cursor.fetchall()]
    return found


def tag_link_orphans(herald: Herald) -> list[tuple[int, int]]:
    """(contact_id, tag_id) links whose contact or tag is not there. On PostgreSQL contact_tag has
    no foreign keys (migration 0007), so the import and tagging tests check this instead."""
    with herald.database.connection_context():
        cursor = herald.database.execute_sql(
            "SELECT ct.contact_id, ct.tag_id FROM contact_tag ct"
            " WHERE NOT EXISTS (SELECT 1 FROM contact c WHERE c.id = ct.contact_id)"
            " OR NOT EXISTS (SELECT 1 FROM tag t WHERE t.id = ct.tag_id)"
        )
        return [(row[0], row[1]) for row in cursor.fetchall()]


_REFUSE = {  # a database that refuses updates of ledger rows: what a poison body's apply meets
    "sqlite": [
        "CREATE TRIGGER refuse BEFORE UPDATE ON outbound_message{when}"
        " BEGIN SELECT RAISE(ABORT, 'refused'); END"
    ],
    "postgres": [
        "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger AS $$ BEGIN IF {test} THEN"
        " RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse BEFORE UPDATE ON outbound_message FOR EACH ROW EXECUTE FUNCTION refuse()",
    ],
}
_ALLOW = {
    "sqlite": ["DROP TRIGGER IF EXISTS refuse"],
    "postgres": ["DROP TRIGGER IF EXISTS refuse ON outbound_message", "DROP FUNCTION IF EXISTS refuse()"],
}


@contextlib.contextmanager
def refusing_updates(herald: Herald, row_ids: Sequence[int] | None = None) -> Iterator[None]:
    """The database refuses every update of these ledger rows (all rows when None) while the
    block runs: a failure no retry can cure, as a corrupt row would cause. Always undone, so
    the next test on the same database is not affected."""
    from storage.database import is_postgres

    database = herald.database
    engine = "postgres" if is_postgres(database) else "sqlite"
    ids = ",".join(map(str, row_ids or ()))
    when = f" WHEN OLD.id IN ({ids})" if row_ids else ""
    test = f"OLD.id IN ({ids})" if row_ids else "TRUE"

    def run(statements: list[str]) -> None:
        with database.atomic():
            for sql in statements:
                database.execute_sql(sql.format(when=when, test=test))

    herald.in_db(run, _ALLOW[engine])
    herald.in_db(run, _REFUSE[engine])
    try:
        yield
    finally:
        herald.in_db(run, _ALLOW[engine])
