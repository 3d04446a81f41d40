"""The broadcast state machine: the moves between states, and the one conditional move.

Every move is one conditional UPDATE (``... WHERE status IN (allowed)``), so two
schedulers, two clicks or two workers can never make the same move twice, and
every move is recorded in the audit log with who made it (a person, the
scheduler, or Meta through the send pipeline and webhooks). The states
themselves are named in ``storage.states``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import peewee

from engine.actor import Actor
from engine.audit import Audit
from engine.clock import Clock
from engine.errors import Conflict
from storage.models import Broadcast
from storage.states import EDITABLE, FINISHED, BroadcastStatus

S = BroadcastStatus

# action -> (states it may start from, state it leads to)
MOVES: dict[str, tuple[frozenset[BroadcastStatus], BroadcastStatus]] = {
    "schedule": (frozenset({S.DRAFT, S.SCHEDULED, S.MISSED}), S.SCHEDULED),
    "start": (frozenset({S.DRAFT, S.SCHEDULED, S.MISSED}), S.SENDING),
    # A chat Confirm acts only on the held draft it previewed, so a second click is refused
    # instead of starting a broadcast the first click scheduled.
    "confirm_schedule": (frozenset({S.DRAFT}), S.SCHEDULED),
    "confirm_start": (frozenset({S.DRAFT}), S.SENDING),
    "pause": (frozenset({S.SENDING}), S.PAUSED),
    "resume": (frozenset({S.PAUSED}), S.SENDING),
    "cancel": (frozenset({S.DRAFT, S.SCHEDULED, S.SENDING, S.PAUSED}), S.CANCELLED),
    "discard": (frozenset({S.DRAFT}), S.CANCELLED),  # a preview's Cancel: never stops a sending broadcast
    "complete": (frozenset({S.SENDING}), S.COMPLETED),
    "miss": (frozenset({S.SCHEDULED}), S.MISSED),
}
# the audit log names a Confirm by what it did
AUDITED_AS = {"confirm_schedule": "schedule", "confirm_start": "start"}
__all__ = ["EDITABLE", "FINISHED", "MOVES", "Lifecycle", "allowed_from", "refusal", "target"]


def allowed_from(action: str) -> frozenset[BroadcastStatus]:
    return MOVES[action][0]


def target(action: str) -> BroadcastStatus:
    return MOVES[action][1]


def refusal(action: str, current: str) -> str:
    """Why ``action`` is not possible from ``current``, in words."""
    if current in FINISHED:
        return f"it is already {current}"
    starts = ", ".join(sorted(allowed_from(action)))
    return f"it is {current}; {action.replace('_', ' ')} works only when it is {starts}"


class Lifecycle:
    """Makes broadcast moves: conditional, audited, in the caller's transaction."""

    def __init__(self, database: peewee.Database, clock: Clock, audit: Audit) -> None:
        self.db = database
        self.clock = clock
        self.audit = audit

    def move(
        self,
        broadcast_id: int,
        action: str,
        *,
        by: Actor,
        when: peewee.Expression | None = None,
        then: Callable[[], Mapping[str, Any]] | None = None,
        **fields: Any,
    ) -> bool:
        """Make ``action`` if the broadcast's status (and ``when``, when given) allows it.

        ``fields`` are other columns to set with the move (``status_reason``, when
        given, is also recorded in the audit log). ``then`` runs once the move is
        made (the ledger build of a start); what it returns joins the audit record.
        Returns False, changing nothing, when the move is not possible: another
        process made it, or a different one, first.
        """
        condition = (Broadcast.id == broadcast_id) & Broadcast.status.in_(allowed_from(action))
        if when is not None:
            condition &= when
        with self.db.atomic():
            changed = (
                Broadcast.update(status=target(action), updated_at=self.clock.now(), **fields)
                .where(condition)
                .execute()
            )
            if not changed:
                return False
            detail = dict(then()) if then is not None else {}
            if fields.get("status_reason"):
                detail["reason"] = fields["status_reason"]
            self.audit.record(
                face=by.face,
                actor=by.id,
                action=f"broadcast.{AUDITED_AS.get(action, action)}",
                target=str(broadcast_id),
                **detail,
            )
        return True

    def make(self, broadcast_id: int, action: str, **kwargs: Any) -> None:
        """Like ``move``; raises Conflict saying why when the move is not possible."""
        if not self.move(broadcast_id, action, **kwargs):
            current = Broadcast.get_by_id(broadcast_id).status
            raise Conflict(f"broadcast {broadcast_id} cannot {action}: {refusal(action, current)}.")
