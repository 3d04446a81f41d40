"""What an admin on WhatsApp saw: the fingerprint of the preview their YES would confirm.

A YES starts or schedules the broadcast only while it still has that
fingerprint; a broadcast changed since the question is previewed again.
Rows from before this column (NULL) are previewed again too.
"""

STATEMENTS = [
    "ALTER TABLE admin_pending ADD COLUMN seen TEXT",
]
