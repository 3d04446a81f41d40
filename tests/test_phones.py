import pytest

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
