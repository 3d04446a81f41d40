"""What a broadcast's preview showed, as a short fingerprint its Confirm carries back.

A Confirm (a Slack button, a WhatsApp YES, the shell's ``y``) names the
fingerprint of the preview it answers, and the broadcast is started or
scheduled only while it still has that fingerprint: a change made since
(a REST ``PATCH`` of a held chat draft, say) is answered with a fresh
preview, never sent on the strength of the old one. In it is everything a
person judged the preview by that belongs to the broadcast: its template,
name, tags (the audience), schedule and zone, and template values.
"""

from __future__ import annotations

import hashlib

import orjson

from storage.models import Broadcast

LENGTH = 16  # hex digits: 64 bits, plenty to tell one state of one broadcast from another


def fingerprint(b: Broadcast) -> str:
    facts = {
        "template": b.template_id,
        "name": b.name,
        "tags": sorted(b.tags or []),
        "scheduled_at": b.scheduled_at.isoformat() if b.scheduled_at else None,
        "timezone": b.timezone,
        "params": b.params,
    }
    return hashlib.sha256(orjson.dumps(facts, option=orjson.OPT_SORT_KEYS)).hexdigest()[:LENGTH]
