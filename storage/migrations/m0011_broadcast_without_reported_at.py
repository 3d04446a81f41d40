"""broadcast loses ``reported_at``: a column from the first schema that nothing ever wrote or read.

Where a face reported a broadcast (its live funnel message, say) is kept in
the broadcast's ``notify``. SQLite drops a column in place since 3.35.
"""

STATEMENTS = [
    "ALTER TABLE broadcast DROP COLUMN reported_at",
]
