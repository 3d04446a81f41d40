"""The broadcast state machine: a closed set of states and the moves between them.

Every move is one conditional UPDATE (``... WHERE status IN (allowed)``), so two
schedulers, two clicks or two workers can never make the same move twice.
"""

from __future__ import annotations

DRAFT = "draft"
SCHEDULED = "scheduled"
SENDING = "sending"
PAUSED = "paused"
COMPLETED = "completed"
CANCELLED = "cancelled"
MISSED = "missed"

STATES = (DRAFT, SCHEDULED, SENDING, PAUSED, COMPLETED, CANCELLED, MISSED)
FINISHED = frozenset({COMPLETED, CANCELLED, MISSED})

# action -> (states it may start from, state it leads to)
MOVES: dict[str, tuple[frozenset[str], str]] = {
    "schedule": (frozenset({DRAFT, SCHEDULED, MISSED}), SCHEDULED),
    "unschedule": (frozenset({SCHEDULED}), DRAFT),
    "start": (frozenset({DRAFT, SCHEDULED, MISSED}), SENDING),
    # A chat Confirm acts only on the held draft it previewed, so a second click is refused
    # instead of starting a broadcast the first click scheduled.
    "confirm_schedule": (frozenset({DRAFT}), SCHEDULED),
    "confirm_start": (frozenset({DRAFT}), SENDING),
    "pause": (frozenset({SENDING}), PAUSED),
    "resume": (frozenset({PAUSED}), SENDING),
    "cancel": (frozenset({DRAFT, SCHEDULED, SENDING, PAUSED}), CANCELLED),
    "discard": (frozenset({DRAFT}), CANCELLED),  # a preview's Cancel: never stops a sending broadcast
    "complete": (frozenset({SENDING}), COMPLETED),
    "miss": (frozenset({SCHEDULED}), MISSED),
}
EDITABLE = frozenset({DRAFT, SCHEDULED})


def allowed_from(action: str) -> frozenset[str]:
    return MOVES[action][0]


def target(action: str) -> str:
    return MOVES[action][1]


def refusal(action: str, current: str) -> str:
    """Why ``action`` is not possible from ``current``, in words."""
    if current in FINISHED:
        return f"it is already {current}"
    starts = ", ".join(sorted(allowed_from(action)))
    return f"it is {current}; {action.replace('_', ' ')} works only when it is {starts}"
