"""One example per REST operation, for the OpenAPI document (each is checked against its schema).

Request examples are real requests (the contract test sends them); response
examples show every key of the view the operation answers with.
"""

from __future__ import annotations

from typing import Any

CONTACT: dict[str, Any] = {
    "id": 7,
    "phone": "+919812345678",
    "wa_user_id": "IN.13491208655302741918",
    "username": None,
    "name": "Asha Rao",
    "tags": ["gold", "vip"],
    "opted_in": True,
    "status": "active",
    "attributes": {"city": "Pune"},
}
TEMPLATE: dict[str, Any] = {
    "id": 2,
    "name": "promo_autumn",
    "language": "en",
    "category": "MARKETING",
    "status": "APPROVED",
    "parameter_format": "POSITIONAL",
    "parameters": [{"component": "body", "name": "1"}],
    "components": [{"type": "BODY", "text": "Hi {{1}}, autumn deals are here."}],
}
FUNNEL: dict[str, Any] = {
    "total": 4210,
    "sent": 4100,
    "delivered": 3920,
    "read": 2310,
    "replied": 41,
    "failed": 35,
    "skipped": {"frequency_cap": 60, "opted_out": 15},
    "failed_reasons": {"131026 Message undeliverable": 30, "131049 Per-user marketing limit": 5},
    "pending": 0,
    "held": {},
}
BROADCAST: dict[str, Any] = {
    "id": 12,
    "name": "Diwali promo",
    "template": "promo_autumn",
    "language": "en",
    "category": "MARKETING",
    "tags": ["vip", "gold"],
    "status": "completed",
    "status_reason": None,
    "scheduled_at": "2026-12-01T03:30:00Z",
    "timezone": "Asia/Kolkata",
    "scheduled_for": "Tue 1 Dec 09:00 Asia/Kolkata (03:30 UTC)",
    "created_by": "U024BE7LH",
    "face": "slack",
    "notify": {"slack": {"channel": "C0123456789"}},
    "audience_total": 4210,
    "started_at": "2026-12-01T03:30:01Z",
    "completed_at": "2026-12-01T03:31:05Z",
    "funnel": FUNNEL,
}
DRAFT: dict[str, Any] = {
    **BROADCAST,
    "status": "draft",
    "audience_total": None,
    "started_at": None,
    "completed_at": None,
    "funnel": {**dict.fromkeys(FUNNEL, 0), "skipped": {}, "failed_reasons": {}, "held": {}},
}
PREVIEW: dict[str, Any] = {
    "total": 4285,
    "capped": 75,
    "will_send": 4210,
    "sample": [CONTACT],
    "waterfall": {
        "matched": 4400,
        "opted_out": 90,
        "deleted": 25,
        "eligible": 4285,
        "frequency_capped": 75,
        "will_send": 4210,
    },
    "estimated_seconds": 31.3,
    "messaging_limit": {
        "limit": 2000,
        "source": "meta",
        "used": 1500,
        "fits_now": 2500,
        "later": 1710,
        "later_from": "2026-12-01T03:31:00Z",
        "later_until": "2026-12-02T03:30:00Z",
    },
}
DEFINITION: dict[str, Any] = {
    "name": "onboarding",
    "trigger": {"type": "tag_added", "tag": "new"},
    "steps": [
        {"id": "welcome", "type": "message", "template": "welcome_offer", "language": "en"},
        {"id": "wait", "type": "delay", "hours": 24},
        {"id": "check", "type": "condition", "if": {"has_tag": "purchased"}, "yes": "thanks", "no": "nudge"},
        {"id": "thanks", "type": "message", "template": "thank_you", "next": None},
        {"id": "nudge", "type": "message", "template": "last_chance"},
    ],
}
SEQUENCE_SUMMARY: dict[str, Any] = {
    "id": 3,
    "name": "onboarding",
    "status": "active",
    "version": 2,
    "trigger": {"type": "tag_added", "tag": "new"},
}
SEQUENCE: dict[str, Any] = {
    **SEQUENCE_SUMMARY,
    "definition": DEFINITION,
    "versions": [
        {
            "version": 2,
            "active": 120,
            "completed": 340,
            "exited": {"opted_out": 4},
            "steps": {
                "welcome": {
                    "total": 464,
                    "sent": 460,
                    "delivered": 451,
                    "read": 300,
                    "failed": 4,
                    "replied": 9,
                }
            },
        }
    ],
    "enrollments": {"enrolled": 464, "active": 120, "completed": 340, "exited": {"opted_out": 4}},
}
ENROLLMENT: dict[str, Any] = {
    "id": 88,
    "sequence": "onboarding",
    "contact": 7,
    "version": 2,
    "status": "active",
    "current_step": "welcome",
    "exit_reason": None,
    "enrolled_at": "2026-11-30T09:00:00Z",
}

# -- requests ---------------------------------------------------------------------------

CONTACT_IN: dict[str, Any] = {"phone": "+91 98123 45678", "name": "Asha Rao", "tags": ["vip"]}
TAGS_IN: dict[str, Any] = {"tags": ["vip", "gold"]}
BROADCAST_IN: dict[str, Any] = {
    "template": "promo_autumn",
    "tags": ["vip", "gold"],
    "schedule": "2026-12-01T09:00",
    "timezone": "Asia/Kolkata",
    "name": "Diwali promo",
}
ENROLL_IN: dict[str, Any] = {"sequence": "onboarding", "contact": "+919812345678"}
CSV_IN = "phone,name,tags,opted_in\n+919812345678,Asha Rao,vip;gold,yes\n"

# -- answers of whole operations ---------------------------------------------------------

CONTACT_PAGE: dict[str, Any] = {"contacts": [CONTACT], "next": None}
IMPORT_REPORT: dict[str, Any] = {
    "accepted": 1180,
    "updated": 15,
    "rejected": [{"line": 14, "reason": "+91 98 is too short to be a phone number."}],
    "rejected_total": 1,
}
SYNC_REPORT: dict[str, Any] = {
    "synced": 6,
    "approved": 5,
    "skipped": ["old_promo (en): template category 'LEGACY' is unknown."],
}
