"""The sandbox's approved sample templates, in the shape the Cloud API's template list returns.

Each is what ``GET /{waba_id}/message_templates`` gives for a template:
``id`` as a string, ``components`` with upper-case types, ``parameter_format``
NAMED (``{{first_name}}``) or POSITIONAL (``{{1}}``). The demo and the
sequence example in DESIGN.md use these names.
"""

from __future__ import annotations

from typing import Any

_STOP_BUTTON = {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Stop promotions"}]}
_FOOTER = {"type": "FOOTER", "text": "Tap Stop promotions to opt out"}


def _named_body(text: str, *examples: tuple[str, str]) -> dict[str, Any]:
    return {
        "type": "BODY",
        "text": text,
        "example": {"body_text_named_params": [{"param_name": n, "example": e} for n, e in examples]},
    }


SAMPLE_TEMPLATES: tuple[dict[str, Any], ...] = (
    {
        "id": "1000000000000001",
        "name": "welcome_offer",
        "language": "en",
        "status": "APPROVED",
        "category": "MARKETING",
        "parameter_format": "NAMED",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Welcome to Herald Store"},
            _named_body(
                "Hi {{first_name}}, welcome aboard! Here is 10% off your first order "
                "with the code WELCOME10.",
                ("first_name", "Asha"),
            ),
            _FOOTER,
            _STOP_BUTTON,
        ],
    },
    {
        "id": "1000000000000002",
        "name": "promo_autumn",
        "language": "en",
        "status": "APPROVED",
        "category": "MARKETING",
        "parameter_format": "NAMED",
        "components": [
            _named_body(
                "Hi {{first_name}}, our autumn sale is on: 20% off everything until Sunday.",
                ("first_name", "Asha"),
            ),
            _FOOTER,
            _STOP_BUTTON,
        ],
    },
    {
        "id": "1000000000000003",
        "name": "order_update",
        "language": "en",
        "status": "APPROVED",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "components": [
            {
                "type": "BODY",
                "text": "Hi {{1}}, your order {{2}} is {{3}}.",
                "example": {"body_text": [["Asha", "HX-1042", "on its way"]]},
            },
            {
                "type": "BUTTONS",
                "buttons": [
                    {
                        "type": "URL",
                        "text": "Track order",
                        "url": "https://example.com/orders/{{1}}",
                        "example": ["https://example.com/orders/HX-1042"],
                    }
                ],
            },
        ],
    },
    {
        "id": "1000000000000004",
        "name": "thank_you",
        "language": "en",
        "status": "APPROVED",
        "category": "UTILITY",
        "parameter_format": "NAMED",
        "components": [
            _named_body(
                "Thank you for your purchase, {{first_name}}. Your receipt is in your email.",
                ("first_name", "Asha"),
            )
        ],
    },
    {
        "id": "1000000000000005",
        "name": "last_chance",
        "language": "en",
        "status": "APPROVED",
        "category": "MARKETING",
        "parameter_format": "NAMED",
        "components": [
            _named_body(
                "{{first_name}}, your 10% welcome discount ends tonight. Use WELCOME10 at checkout.",
                ("first_name", "Asha"),
            ),
            _FOOTER,
            _STOP_BUTTON,
        ],
    },
    {
        "id": "1000000000000006",
        "name": "login_code",
        "language": "en",
        "status": "APPROVED",
        "category": "AUTHENTICATION",
        "parameter_format": "POSITIONAL",
        "components": [
            {
                "type": "BODY",
                "text": "*{{1}}* is your verification code. For your security, do not share this code.",
                "add_security_recommendation": True,
                "example": {"body_text": [["482913"]]},
            },
            {
                "type": "FOOTER",
                "text": "This code expires in 10 minutes.",
                "code_expiration_minutes": 10,
            },
            {
                "type": "BUTTONS",
                "buttons": [
                    {
                        # Meta lists a copy-code button as a URL button whose code is {{1}}.
                        "type": "URL",
                        "text": "Copy code",
                        "url": "https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code=otp{{1}}",
                        "example": ["https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code=otp482913"],
                    }
                ],
            },
        ],
    },
)
