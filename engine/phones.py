"""Phone numbers: E.164 normalisation with the reason when a number is refused, and masking.

WhatsApp needs the ``+`` and country code: without them Meta prepends the
business number's own country code and may reach a stranger, so a number
without a country code is refused rather than guessed.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, ValidationResult

from engine.errors import Invalid

_CANONICAL = re.compile(r"\+[1-9]\d{6,14}")
_SEPARATORS = re.compile(r"[\s\-().\u00a0\u2010-\u2015/]")
_COUNTRY_CODES = phonenumbers.COUNTRY_CODE_TO_REGION_CODE
EXAMPLE = "+919812345678"

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "has an unknown country code",
    NumberParseException.NOT_A_NUMBER: "is not a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "is too short",
    NumberParseException.TOO_SHORT_NSN: "is too short",
    NumberParseException.TOO_LONG: "is too long",
}
_LENGTH_REASONS = {
    ValidationResult.TOO_SHORT: "is too short for its country",
    ValidationResult.TOO_LONG: "is too long for its country",
    ValidationResult.INVALID_LENGTH: "has the wrong number of digits for its country",
    ValidationResult.INVALID_COUNTRY_CODE: "has an unknown country code",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "is too short (a local number without its area code?)",
}


def normalize_phone(raw: str, *, field: str = "phone") -> str:
    """The number in E.164 (``+919812345678``).

    Accepts spaces, dashes, dots, parentheses and a ``00`` international
    prefix. Raises Invalid saying why a number is refused.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid("phone is empty.", field=field, hint=f"Write it like {EXAMPLE}.")
    text = raw.strip()
    if _CANONICAL.fullmatch(text):
        fast = _fast_canonical(text)
        if fast is not None:
            return text
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not re.search(r"\d", compact):
        raise Invalid(f"{shown(text)} is not a phone number.", field=field, hint=f"Write it like {EXAMPLE}.")
    if not compact.startswith("+"):
        raise Invalid(
            f"{shown(text)} has no country code.",
            field=field,
            hint=f"Write it in international form with + and the country code, like {EXAMPLE}.",
        )
    try:
        number = phonenumbers.parse(compact, None)
    except NumberParseException as exc:
        reason = _PARSE_REASONS.get(exc.error_type, "is not a phone number")
        raise Invalid(f"{shown(text)} {reason}.", field=field, hint=f"Write it like {EXAMPLE}.") from exc
    if not phonenumbers.is_valid_number(number):
        possible = phonenumbers.is_possible_number_with_reason(number)
        reason = _LENGTH_REASONS.get(possible, "is not a valid number for its country")
        raise Invalid(
            f"{shown(text)} {reason}.",
            field=field,
            hint="Check the digits and the country code.",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _fast_canonical(text: str) -> PhoneNumber | None:
    """Validate an already-canonical ``+<digits>`` without the full parser (5x faster).

    Returns None when the fast path cannot decide; the full parser then runs.
    A national number with a leading zero always takes the full parser, which
    knows each country's trunk-prefix rules.
    """
    digits = text[1:]
    for width in (1, 2, 3):
        code = int(digits[:width])
        if code in _COUNTRY_CODES:
            rest = digits[width:]
            if not rest or rest[0] == "0":
                return None
            number = PhoneNumber(country_code=code, national_number=int(rest))
            return number if phonenumbers.is_valid_number(number) else None
    return None


def shown(text: str) -> str:
    """How refused input is echoed back: masked when it looks like a number, quoted otherwise."""
    if len(re.sub(r"\D", "", text)) >= 6:
        return mask_phone(text)
    return repr(text[:24])


def mask_phone(phone: str) -> str:
    """``+919812345678`` → ``+91••••••5678``: enough to recognise, not enough to dial."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) < 6:
        return "•" * len(digits)
    hidden = max(3, len(digits) - 6)
    tail = len(digits) - 2 - hidden
    return f"+{digits[:2]}{'•' * hidden}{digits[-tail:]}"
