"""Meta's platform as it is now: a poison webhook body set aside, what Meta says about the
account kept, and what each message costs.

- ``webhook_inbox.attempts`` / ``last_error``: a body whose apply fails is retried alone; after
  five failures it moves to ``webhook_quarantine`` (kept whole, with the reason) so it never
  stalls the bodies behind it.
- ``counter``: counts any process adds to (webhook items ignored, by reason), read by /metrics.
- ``account_state``: what Meta last said about the account, one row per key (the messaging
  limit, the number's quality), with when Meta said it.
- ``template``: the quality rating, when the status last changed on Meta's side (so an older
  webhook applied late never undoes a newer one) and Meta's note on a pause.
- ``outbound_message``: the ``pricing`` object of its statuses (model, category, type,
  billable), for cost reporting.
"""

STATEMENTS = [
    "ALTER TABLE webhook_inbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE webhook_inbox ADD COLUMN last_error TEXT",
    "CREATE INDEX webhook_inbox_failed ON webhook_inbox (id) WHERE attempts > 0",
    """CREATE TABLE webhook_quarantine (
        id $pk,
        inbox_id $id NOT NULL,
        received_at $ts NOT NULL,
        quarantined_at $ts NOT NULL,
        attempts INTEGER NOT NULL,
        reason TEXT NOT NULL,
        body TEXT NOT NULL
    )""",
    """CREATE TABLE counter (
        name TEXT NOT NULL,
        label TEXT NOT NULL,
        value $id NOT NULL DEFAULT 0,
        PRIMARY KEY (name, label)
    )""",
    """CREATE TABLE account_state (
        key TEXT PRIMARY KEY,
        value $json NOT NULL,
        event_at $ts,
        updated_at $ts NOT NULL
    )""",
    "ALTER TABLE template ADD COLUMN quality TEXT",
    "ALTER TABLE template ADD COLUMN status_at $ts",
    "ALTER TABLE template ADD COLUMN other_info TEXT",
    "ALTER TABLE outbound_message ADD COLUMN pricing_model TEXT",
    "ALTER TABLE outbound_message ADD COLUMN pricing_category TEXT",
    "ALTER TABLE outbound_message ADD COLUMN pricing_type TEXT",
    "ALTER TABLE outbound_message ADD COLUMN billable $bool",
    "ALTER TABLE pending_status ADD COLUMN pricing $json",
]
