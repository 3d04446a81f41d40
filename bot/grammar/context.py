"""What every form is read against: the moment, the asker's timezone, the known names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.grammar.names import Vocabulary


@dataclass(frozen=True, slots=True)
class Context:
    """``now`` is aware (any zone); ``tz`` is the IANA zone times are read and shown in."""

    now: datetime
    tz: str
    vocabulary: Vocabulary
