"""Shared fixtures-as-values for the grammar tests: a fixed moment, zones, a vocabulary."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.grammar import Command, Question, Vocabulary, interpret, parse
from engine.errors import UsageError

KOLKATA = "Asia/Kolkata"
NEW_YORK = "America/New_York"
NOW = datetime(2026, 11, 30, 10, 14, tzinfo=ZoneInfo(KOLKATA))  # Monday 10:14 IST = 04:44 UTC
VOCABULARY = Vocabulary.of(
    templates=["promo", "promo_autumn", "promo_winter", "welcome_offer", "thank_you"],
    tags=["vip", "gold", "new", "diwali-2026"],
    sequences=["onboarding", "Spring Welcome"],
)
PHONE = "+919812345678"


def read(text: str, **kwargs: Any) -> Command:
    """``parse`` at NOW in Asia/Kolkata unless told otherwise."""
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("tz", KOLKATA)
    return parse(text, **kwargs)


def said(text: str, **kwargs: Any) -> Command | Question:
    """``interpret`` at NOW in Asia/Kolkata unless told otherwise."""
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("tz", KOLKATA)
    return interpret(text, **kwargs)


def refusal(text: str, *, natural: bool = False, **kwargs: Any) -> UsageError:
    """The UsageError ``text`` is refused with."""
    with pytest.raises(UsageError) as caught:
        (said if natural else read)(text, **kwargs)
    return caught.value


def local(moment: datetime | None, tz: str = KOLKATA) -> str:
    """``Mon 2026-11-30 18:00``: a UTC moment on the wall clock of ``tz``."""
    assert moment is not None
    return f"{moment.astimezone(ZoneInfo(tz)):%a %Y-%m-%d %H:%M}"
