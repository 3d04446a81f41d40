"""Template parameter mappings, the durable webhook inbox, and statuses waiting for their message."""

STATEMENTS = [
    "ALTER TABLE broadcast ADD COLUMN params $json",
    """CREATE TABLE webhook_inbox (
        id $pk,
        received_at $ts NOT NULL,
        body TEXT NOT NULL,
        claimed_at $ts,
        processed_at $ts
    )""",
    "CREATE INDEX webhook_inbox_todo ON webhook_inbox (processed_at, id)",
    """CREATE TABLE pending_status (
        id $pk,
        wamid TEXT NOT NULL,
        callback TEXT,
        status TEXT NOT NULL,
        at $ts NOT NULL,
        errors $json NOT NULL DEFAULT '[]',
        received_at $ts NOT NULL
    )""",
    "CREATE INDEX pending_status_by_wamid ON pending_status (wamid)",
]
