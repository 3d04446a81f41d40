"""The delivery governor: rows held by rule, the messaging limit's reach, the circuit breaker.

- ``outbound_message.held_reason``: why a ``held`` row waits (``storage.states.HeldReason``),
  kept on a row the messaging limit let go until it settles (the limit counts those in
  flight); ``retries_131049``: how many times the row waited 24 hours for WhatsApp's
  per-user marketing limit. ``outbound_held`` indexes only rows with a reason, so the
  tick finds held rows without reading the queue.
- ``broadcast.held_reason``: a rule paused the whole broadcast (``breaker``).
- ``contact.last_reach_at`` / ``prev_reach_at``: when a template last reached the contact
  (and the time before, to hand a claim back); ``reach_minute``: how many contacts' last
  reach falls in each minute, so the unique recipients of the last 24 hours are the sum
  of at most 1,441 rows, whatever the size of the ledger.
- ``breaker_tally``: a broadcast's outcomes, failures and opt-outs, a row per batch or
  webhook apply; the breaker reads the newest rows of one broadcast.
"""

STATEMENTS = [
    "ALTER TABLE outbound_message ADD COLUMN held_reason TEXT",
    "ALTER TABLE outbound_message ADD COLUMN retries_131049 INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX outbound_held ON outbound_message (held_reason, state, next_attempt_at, id)"
    " WHERE held_reason IS NOT NULL",
    "ALTER TABLE broadcast ADD COLUMN held_reason TEXT",
    "ALTER TABLE contact ADD COLUMN last_reach_at $ts",
    "ALTER TABLE contact ADD COLUMN prev_reach_at $ts",
    "CREATE TABLE reach_minute (minute $ts PRIMARY KEY, n $id NOT NULL)",
    """CREATE TABLE breaker_tally (
        id $pk,
        broadcast_id $id NOT NULL,
        at $ts NOT NULL,
        outcomes INTEGER NOT NULL,
        failures INTEGER NOT NULL,
        optouts INTEGER NOT NULL
    )""",
    "CREATE INDEX breaker_tally_by_broadcast ON breaker_tally (broadcast_id, id)",
]
