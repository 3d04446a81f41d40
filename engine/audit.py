"""The audit log: who did what, from which face. Phones are masked before they are stored."""

from __future__ import annotations

from typing import Any

from engine.clock import Clock
from storage.models import AuditLog


class Audit:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def record(self, *, face: str, actor: str, action: str, target: str = "", **detail: Any) -> None:
        AuditLog.create(
            at=self.clock.now(), face=face, actor=actor, action=action, target=target, detail=detail
        )
