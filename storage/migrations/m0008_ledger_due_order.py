"""Due ledger rows in id order from the index.

The tick asks for queued rows oldest first (``ORDER BY id LIMIT n``).
``outbound_by_state (state, next_attempt_at)`` found the queued rows but not
in id order, so each call could read every queued row and sort them, and the
tick's query for a million-row broadcast cost time in proportion to what was
left to send. ``(state, id)`` hands them over in order, a batch's worth at a
time; the other state queries (in flight, the watchdog's) use it as they
used the old one.
"""

STATEMENTS = [
    "DROP INDEX outbound_by_state",
    "CREATE INDEX outbound_by_state ON outbound_message (state, id)",
]
