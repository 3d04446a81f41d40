import random
import re

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType

from engine import phones
from engine.errors import Invalid
from engine.phones import EXAMPLE, mask_phone, normalize_phone


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+919812345678", "+919812345678"),
        ("+91 98123 45678", "+919812345678"),
        ("+91-98123-45678", "+919812345678"),
        ("(+91) 98123.45678", "+919812345678"),
        ("0091 98123 45678", "+919812345678"),
        ("  +44 7911 123456 ", "+447911123456"),
        ("+44 (0) 7911 123456", "+447911123456"),
        ("+1 (415) 555-2671", "+14155552671"),
        ("+39 06 6982 1234", "+390669821234"),  # Italian numbers keep their leading zero
        ("\u00a0+49\u00a030\u00a0123456", "+4930123456"),
        ("+55 11 91234-5678", "+5511912345678"),
    ],
)
def test_numbers_in_odd_formats_become_e164(raw: str, e164: str) -> None:
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("9812345678", "no country code"),
        ("+999 12345678", "unknown country code"),
        ("+91 12", "too short"),
        ("+91 98123 45678 99999", "too long"),
        ("hello", "not a phone number"),
        ("+44 1234", "too short"),
    ],
)
def test_refused_numbers_say_why(raw: str, reason: str) -> None:
    with pytest.raises(Invalid) as caught:
        normalize_phone(raw)
    message = caught.value.render()
    assert reason in message
    digits = "".join(c for c in raw if c.isdigit())
    if len(digits) >= 6:  # the refusal never echoes the full number
        assert digits not in "".join(c for c in message.replace(EXAMPLE, "") if c.isdigit())


def test_mask_keeps_country_code_and_last_four_only() -> None:
    assert mask_phone("+919812345678") == "+91••••••5678"
    assert "98123" not in mask_phone("+919812345678")


def test_non_ascii_digits_are_stored_as_ascii() -> None:
    assert normalize_phone("+9١٩٨١٢٣٤٥٦٧٨") == "+919812345678"


def _parsed(text: str) -> str | None:
    """What the full parser makes of ``text``: its E.164 when valid, else None."""
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _samples() -> list[str]:
    """Every example number the metadata has, and random numbers around each of them."""
    rng = random.Random(20261130)
    examples: list[phonenumbers.PhoneNumber] = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in PhoneNumberType.values():
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                examples.append(number)
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            examples.append(number)
    out = []
    for number in examples:
        code = str(number.country_code)
        national = phonenumbers.national_significant_number(number)
        out.append(f"+{code}{national}")
        for _ in range(3):  # keep a prefix, draw the rest, sometimes one digit more or less
            keep = rng.randint(1, len(national))
            length = len(national) + rng.choice((-1, 0, 0, 0, 1))
            tail = "".join(rng.choice("0123456789") for _ in range(max(0, length - keep)))
            out.append(f"+{code}{national[:keep]}{tail}")
    return [s for s in out if re.fullmatch(r"\+[1-9][0-9]{6,14}", s)]


def test_the_fast_path_agrees_with_the_full_parser() -> None:
    """The fast path only ever accepts what parse + is_valid_number accept, unchanged, and
    decides for itself every valid number it is not told to leave to the parser."""
    samples = _samples()
    assert len(samples) > 3000
    decided = 0
    for text in samples:
        fast = phones._fast_canonical(text)
        full = _parsed(text)
        if fast:
            decided += 1
            assert full == text, text
        elif full == text:
            code = phonenumbers.parse(text, None).country_code
            national = text[1 + len(str(code)) :]
            prefix = phones._rules(code).prefix
            assert national.startswith("0") or (prefix is not None and prefix.match(national)), text
    assert decided > len(samples) // 4


@pytest.mark.parametrize("raw", ["+44 79 1234 5678", "0044 7912345678", "+91-98123-45678", "+1 415 555 2671"])
def test_formatted_numbers_take_the_fast_path_to_the_same_answer(raw: str) -> None:
    assert normalize_phone(raw) == _parsed(re.sub(r"[\s-]", "", raw).replace("00", "+", 1))
