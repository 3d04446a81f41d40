"""A notifier that keeps every call, for scenario tests to read what the faces were told."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from engine import views


class RecordingNotifier:
    """Keeps every call (``of(kind)`` reads them back)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self._lock = threading.Lock()

    def _keep(self, kind: str, payload: Any) -> None:
        with self._lock:
            self.calls.append((kind, payload))

    def broadcast_started(self, broadcast: views.Broadcast) -> None:
        self._keep("started", broadcast)

    def broadcast_progress(self, broadcast: views.Broadcast) -> None:
        self._keep("progress", broadcast)

    def broadcast_completed(self, broadcast: views.Broadcast) -> None:
        self._keep("completed", broadcast)

    def alert(self, kind: str, message: str, broadcast: Mapping[str, Any] | None = None) -> None:
        self._keep("alert", {"kind": kind, "message": message, "broadcast": broadcast})

    def of(self, kind: str) -> list[Any]:
        with self._lock:
            return [payload for k, payload in self.calls if k == kind]
