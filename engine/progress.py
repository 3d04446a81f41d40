"""Funnel progress notifications, at most one per broadcast every few seconds.

Recording a batch or applying a webhook touches a broadcast hundreds of
times a second during a big send; the funnel is recomputed and announced
only when ``interval`` seconds have passed for that broadcast (Slack edits
are rate-limited too).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from engine.broadcasts import Broadcasts
from engine.notify import Notifier


class Progress:
    def __init__(self, broadcasts: Broadcasts, notifier: Notifier, *, interval: float = 5.0) -> None:
        self.broadcasts = broadcasts
        self.notifier = notifier
        self.interval = interval
        self._last: dict[int, float] = {}
        self._lock = threading.Lock()

    def touch(self, broadcast_ids: Iterable[int]) -> None:
        """Announce the funnel of each broadcast whose last announcement is old enough."""
        now = time.monotonic()
        due = []
        with self._lock:
            for broadcast_id in broadcast_ids:
                if now - self._last.get(broadcast_id, -1e9) >= self.interval:
                    self._last[broadcast_id] = now
                    due.append(broadcast_id)
        for broadcast_id in due:
            self.notifier.broadcast_progress(self.broadcasts.get(broadcast_id))
