"""Who is asking (and from where), and how an engine refusal becomes an answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.faces.answers import Refused, Why
from engine.actor import Actor
from engine.errors import Conflict, HeraldError, NotFound, Unavailable, UsageError


@dataclass(frozen=True)
class Request:
    """Who asks, whether they are an admin, their timezone, and where a broadcast they create
    reports its live funnel (the face's part of the broadcast's ``notify``)."""

    actor: Actor
    admin: bool
    timezone: str
    notify: dict[str, Any] = field(default_factory=dict)
    admins_setting: str = "SLACK_ADMINS"  # named in the refusal non-admins get


def refusal(exc: HeraldError) -> Refused:
    """An engine or parser error as an answer: what was wrong and what to do."""
    why = Why.INVALID
    if isinstance(exc, UsageError):
        why = Why.USAGE
    elif isinstance(exc, NotFound):
        why = Why.NOT_FOUND
    elif isinstance(exc, Conflict):
        why = Why.CONFLICT
    elif isinstance(exc, Unavailable):
        why = Why.UNAVAILABLE
    text = exc.render()
    return Refused(text[:1].upper() + text[1:], why)
