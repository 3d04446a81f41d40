"""contact_tag loses its two foreign keys (to contact and to tag) on PostgreSQL.

PostgreSQL checks each key with a trigger per inserted link, which looks the
parent up and row-locks it: ~13 of the ~17 µs a link cost the server in a
CSV import (``bench/README.md``, "CSV import"). Contacts and tags are never
deleted (a contact is soft-deleted through ``status``; tags are never
removed), so ``ON DELETE CASCADE`` had nothing to do and the checks could
only ever catch a bug. Links are written by ``storage.contacts.link_tags``
alone, with contact ids the same transaction inserted or read and tag ids
from ``ensure_tags``/``tag_ids``; a test keeps hard deletes of contacts and
tags out of the code, and the import tests look for orphaned links. The
primary key (contact_id, tag_id) and the by-tag index stay.

SQLite checks foreign keys cheaply (a rowid look-up) and, as in m0006,
keeps them: dropping one there means rebuilding the table.
"""

STATEMENTS = [
    ("postgresql", "ALTER TABLE contact_tag DROP CONSTRAINT contact_tag_contact_id_fkey"),
    ("postgresql", "ALTER TABLE contact_tag DROP CONSTRAINT contact_tag_tag_id_fkey"),
]
