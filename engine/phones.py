"""Phone numbers: E.164 normalisation with the reason when a number is refused, and masking.

WhatsApp needs the ``+`` and country code: without them Meta prepends the
business number's own country code and may reach a stranger, so a number
without a country code is refused rather than guessed.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberDesc, ValidationResult

from engine.errors import Invalid

_CANONICAL = re.compile(r"\+[1-9][0-9]{6,14}")  # ASCII digits only (\d also matches ٩)
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
    if _CANONICAL.fullmatch(text) and _fast_canonical(text):
        return text
    compact = _SEPARATORS.sub("", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact != text and _CANONICAL.fullmatch(compact) and _fast_canonical(compact):
        return compact  # what parse and format would make of it
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


def _fast_canonical(text: str) -> bool | None:
    """True when an already-canonical ``+<digits>`` is a valid number, decided without the parser.

    Returns None when the fast path cannot decide (an invalid number, or one
    the parser might rewrite); the full parser then runs and gives the
    reason. It applies the library's own metadata the way ``parse`` and
    ``is_valid_number`` do, with the patterns compiled once per country, so
    it never accepts what they refuse nor keeps what they would change.
    """
    digits = text[1:]
    for width in (1, 2, 3):
        code = int(digits[:width])
        if code in _COUNTRY_CODES:
            national = digits[width:]
            if not national or national[0] == "0":  # leading zeros: the parser's Italian-zero rules
                return None
            rules = _rules(code)
            if rules.prefix is not None and rules.prefix.match(national):
                return None  # parse might strip a national prefix
            return True if _valid(national, rules.regions) else None
    return None


class _Desc(NamedTuple):
    lengths: frozenset[int]  # empty: any length
    pattern: re.Pattern[str] | None  # None: matches nothing


class _Region(NamedTuple):
    leading: re.Pattern[str] | None  # the region's leading digits, when it shares its country code
    general: _Desc
    types: tuple[_Desc, ...]


class _Rules(NamedTuple):
    prefix: re.Pattern[str] | None  # the national prefix ``parse`` tries to strip
    regions: tuple[_Region, ...]


def _desc(desc: PhoneNumberDesc | None) -> _Desc:
    if desc is None or not desc.national_number_pattern:
        return _Desc(frozenset(), None)
    return _Desc(frozenset(desc.possible_length or ()), re.compile(desc.national_number_pattern))


@functools.cache
def _rules(code: int) -> _Rules:
    """The validation rules of a country calling code, compiled once."""
    main = PhoneMetadata.metadata_for_region_or_calling_code(
        code, phonenumbers.region_code_for_country_code(code)
    )
    prefix = main.national_prefix_for_parsing if main is not None else None
    names = _COUNTRY_CODES[code]
    regions = []
    for name in names:
        if len(names) == 1:
            meta = PhoneMetadata.metadata_for_region_or_calling_code(code, name)
        else:  # as region_code_for_number looks a shared code's regions up
            meta = PhoneMetadata.metadata_for_region(name.upper(), None)
        if meta is None:
            continue
        # Any type will do, so the common ones go first; mobile counts on its own only when
        # its pattern differs from fixed line's, as in _number_type_helper.
        kinds = [] if meta.same_mobile_and_fixed_line_pattern else [meta.mobile]
        kinds += [
            meta.fixed_line,
            meta.premium_rate,
            meta.toll_free,
            meta.shared_cost,
            meta.voip,
            meta.personal_number,
            meta.pager,
            meta.uan,
            meta.voicemail,
        ]
        regions.append(
            _Region(
                re.compile(meta.leading_digits) if meta.leading_digits is not None else None,
                _desc(meta.general_desc),
                tuple(_desc(k) for k in kinds),
            )
        )
    return _Rules(re.compile(prefix) if prefix else None, tuple(regions))


def _matches(national: str, desc: _Desc) -> bool:
    if desc.pattern is None or (desc.lengths and len(national) not in desc.lengths):
        return False
    return desc.pattern.fullmatch(national) is not None


def _has_type(national: str, region: _Region) -> bool:
    """``_number_type_helper(...) != UNKNOWN``."""
    return _matches(national, region.general) and any(_matches(national, t) for t in region.types)


def _valid(national: str, regions: tuple[_Region, ...]) -> bool:
    """``is_valid_number``: the region the number belongs to, then its types."""
    if len(regions) == 1:
        return _has_type(national, regions[0])
    for region in regions:
        if region.leading is not None:
            if region.leading.match(national):
                return _has_type(national, region)
        elif _has_type(national, region):
            return True
    return False


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


# A business-scoped user id (WhatsApp usernames, 2026): a user's ISO 3166 country code, a period,
# then up to 128 letters and digits; a parent id has ``ENT.`` after the country code.
_USER_ID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")
USER_ID_EXAMPLE = "US.13491208655302741918"


def is_user_id(text: str) -> bool:
    return isinstance(text, str) and _USER_ID.fullmatch(text.strip()) is not None


def normalize_user_id(raw: str, *, field: str = "wa_user_id") -> str:
    """A business-scoped user id as Meta writes it. Raises Invalid saying what is wrong."""
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid(
            "the user id is empty.", field=field, hint=f"Write it as Meta sends it: {USER_ID_EXAMPLE}."
        )
    text = raw.strip()
    if not is_user_id(text):
        raise Invalid(
            f"{text[:40]!r} is not a WhatsApp business-scoped user id.",
            field=field,
            hint=f"It is a country code, a period and an id, as in {USER_ID_EXAMPLE}.",
        )
    return text


def mask_user_id(user_id: str) -> str:
    """``US.13491208655302741918`` → ``US.13…1918``."""
    country, _, rest = (user_id or "").partition(".")
    if len(rest) <= 6:
        return f"{country}.{'•' * len(rest)}"
    return f"{country}.{rest[:2]}…{rest[-4:]}"


def mask_identity(value: str | None) -> str:
    """A phone or a business-scoped user id, masked for people and logs."""
    if not value:
        return ""
    return mask_user_id(value) if is_user_id(value) else mask_phone(value)
