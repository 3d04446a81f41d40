"""The send ledger and the preview at a million contacts, on PostgreSQL.

- The ledger's foreign keys go. PostgreSQL checks each one with a trigger per
  inserted row; building a 970,000-row ledger spent two thirds of its time
  there (``bench/README.md``). Every ledger row is written by a set-based
  statement that takes its contact from ``contact`` and its broadcast,
  template, enrollment and step from rows it has just read in the same
  transaction, and none of those parents is ever deleted (contacts, templates,
  broadcasts and enrollments change status instead), so the checks could only
  ever catch a bug; scenario tests look for orphans instead after each path
  that writes ledger rows (``tests.helpers.ledger_orphans``). SQLite checks foreign keys cheaply and
  keeps them.
- ``contact_eligibility`` holds what the audience queries read of a contact
  next to its id, so the preview's waterfall and the ledger's ``INSERT ...
  SELECT`` walk two indexes in id order (contacts, tag links) and merge them,
  without touching the contact table.
"""

STATEMENTS = [
    ("postgresql", "ALTER TABLE outbound_message DROP CONSTRAINT outbound_message_broadcast_id_fkey"),
    ("postgresql", "ALTER TABLE outbound_message DROP CONSTRAINT outbound_message_enrollment_id_fkey"),
    ("postgresql", "ALTER TABLE outbound_message DROP CONSTRAINT outbound_message_contact_id_fkey"),
    ("postgresql", "ALTER TABLE outbound_message DROP CONSTRAINT outbound_message_template_id_fkey"),
    (
        "postgresql",
        "CREATE INDEX contact_eligibility ON contact (id) INCLUDE (status, opted_in, last_marketing_at)",
    ),
]
