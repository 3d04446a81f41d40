"""Small builders shared by scenario tests."""

from __future__ import annotations

from typing import Any

from bot.container import Herald
from engine.contacts import ContactRow

PROMO = {
    "name": "promo_autumn",
    "language": "en",
    "category": "MARKETING",
    "status": "APPROVED",
    "components": [{"type": "BODY", "text": "Hi {{1}}, autumn deals are here."}],
}
ORDER = {
    "name": "order_update",
    "language": "en",
    "category": "UTILITY",
    "status": "APPROVED",
    "components": [{"type": "BODY", "text": "Hi {{1}}, your order has shipped."}],
}
WELCOME = {
    "name": "welcome_offer",
    "language": "en",
    "category": "MARKETING",
    "status": "APPROVED",
    "parameter_format": "NAMED",
    "components": [{"type": "BODY", "text": "Welcome {{first_name}}! Use {{coupon}}."}],
}
PENDING = {
    "name": "promo_winter",
    "language": "en",
    "category": "MARKETING",
    "status": "PENDING",
    "components": [{"type": "BODY", "text": "Winter is coming."}],
}


def seed_templates(herald: Herald, *templates: dict[str, Any]) -> None:
    with herald.database.connection_context():
        for t in templates or (PROMO, ORDER, WELCOME, PENDING):
            herald.templates.upsert(**t)


def seed_contacts(herald: Herald, rows: list[tuple[str, list[str]]], **kwargs: Any) -> list[int]:
    """Contacts by (phone, tags); returns their ids in order."""
    with herald.database.connection_context():
        result = herald.contacts.write(
            [
                ContactRow(phone=p, tags=tuple(t), name=f"Person {i}", **kwargs)
                for i, (p, t) in enumerate(rows)
            ],
            source="test",
        )
    return [result.ids[i] for i in range(len(rows))]


def phones(n: int, start: int = 0, prefix: str = "+4479110") -> list[str]:
    """``n`` distinct valid UK mobile numbers."""
    return [f"{prefix}{start + i:05d}" for i in range(n)]
