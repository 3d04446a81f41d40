"""What an admin on WhatsApp was asked to confirm, per admin number, with its expiry."""

STATEMENTS = [
    """CREATE TABLE admin_pending (
        phone TEXT PRIMARY KEY,
        broadcast_id $id REFERENCES broadcast (id),
        intent TEXT,
        command TEXT,
        expires_at $ts NOT NULL,
        created_at $ts NOT NULL
    )""",
]
