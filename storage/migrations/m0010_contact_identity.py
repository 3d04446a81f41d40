"""Contacts known by a business-scoped user id, not only by phone (WhatsApp usernames, 2026).

A user who adopts a username may have their number withheld: Meta's webhooks then name them
by a business-scoped user id (``US.13491208655302741918``) only. A contact is identified by
phone or by that id (``wa_user_id``, unique), with the ``username`` when known; ``phone``
becomes optional, on contacts and on inbound messages (which gain the sender's user id).
The unique index holds only contacts that have an id, so the millions that do not cost an
import nothing.

SQLite cannot drop a NOT NULL with ALTER TABLE, and rebuilding ``contact`` would run the
cascading deletes of the tables that refer to it. Dropping a NOT NULL changes nothing
stored, so the table's declaration is edited in place, the documented way
(https://www.sqlite.org/lang_altertable.html, "making other kinds of table schema
changes"), inside this migration's transaction.
"""

from __future__ import annotations

import peewee

_NULLABLE = {
    # table: (the column as declared, the same without NOT NULL)
    "contact": ("phone TEXT NOT NULL UNIQUE", "phone TEXT UNIQUE"),
    "inbound_message": ("phone TEXT NOT NULL,", "phone TEXT,"),
}


def _sqlite_phones_optional(database: peewee.Database) -> None:
    version = int(database.execute_sql("PRAGMA schema_version").fetchone()[0])
    database.execute_sql("PRAGMA writable_schema = ON")
    try:
        for table, (before, after) in _NULLABLE.items():
            cursor = database.execute_sql(
                "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = ?"
                " AND instr(sql, ?) > 0",
                (before, after, table, before),
            )
            if cursor.rowcount != 1:
                raise peewee.DatabaseError(f"{table}: {before!r} not found in its declaration")
        database.execute_sql(f"PRAGMA schema_version = {version + 1}")
    finally:
        database.execute_sql("PRAGMA writable_schema = OFF")


STATEMENTS = [
    "ALTER TABLE contact ADD COLUMN wa_user_id TEXT",
    "ALTER TABLE contact ADD COLUMN username TEXT",
    "CREATE UNIQUE INDEX contact_by_user_id ON contact (wa_user_id) WHERE wa_user_id IS NOT NULL",
    "ALTER TABLE inbound_message ADD COLUMN user_id TEXT",
    ("postgresql", "ALTER TABLE contact ALTER COLUMN phone DROP NOT NULL"),
    ("postgresql", "ALTER TABLE inbound_message ALTER COLUMN phone DROP NOT NULL"),
    ("sqlite", _sqlite_phones_optional),
]
