"""The daily digest's ledger: one row per local day and channel, claimed by one scheduler."""

STATEMENTS = [
    """CREATE TABLE digest (
        day TEXT NOT NULL,
        channel TEXT NOT NULL,
        claimed_at $ts NOT NULL,
        posted_at $ts,
        PRIMARY KEY (day, channel)
    )""",
]
