"""What Herald answers to a command, as plain data every face renders its own way.

The command layer (``bot.faces.commands``) returns one of these; Slack renders
it as Block Kit (``bot.slack.views``), the shell as text (``bot.faces.text``),
and the WhatsApp-admin face will render it as a message. Nothing here knows
about any face. Phones inside are already masked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.grammar import Question
from engine import views
from engine.actor import Actor
from engine.broadcasts import Preview
from engine.stats import Period, Totals


@dataclass(frozen=True)
class Answer:
    """Root of every answer."""


@dataclass(frozen=True)
class Said(Answer):
    """A sentence: help, or what was done ("Tagged +44••••0001 vip.")."""

    text: str


class Why(StrEnum):
    USAGE = "usage"  # the command did not read
    FORBIDDEN = "forbidden"  # only admins may do that
    INVALID = "invalid"  # the engine refused the input
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    UNAVAILABLE = "unavailable"  # a part of Herald is off or down


@dataclass(frozen=True)
class Refused(Answer):
    """Nothing was changed, and why."""

    text: str
    why: Why


@dataclass(frozen=True)
class Asked(Answer):
    """A question back: the command was ambiguous or incomplete, or a change waits for a yes.
    ``question`` is what the conversation remembers, so the answer completes it.
    """

    text: str
    question: Question | None = None


class Intent(StrEnum):
    CONFIRM = "confirm"  # a held draft: Confirm schedules it (if it has a time) or starts it
    SEND = "send"  # an existing broadcast: Confirm starts it now


@dataclass(frozen=True)
class BroadcastPreview(Answer):
    """Who a broadcast will reach and when. ``intent`` None: a draft, nothing to confirm.

    ``fingerprint`` is what its Confirm carries back (``engine.fingerprint``);
    ``changed``: shown because a Confirm came for an earlier preview of a
    broadcast that has changed since, so nothing was sent.
    """

    broadcast: views.Broadcast
    preview: Preview
    intent: Intent | None
    mps: int  # the send rate, for the duration estimate
    fingerprint: str = ""
    changed: bool = False


class Outcome(StrEnum):
    SCHEDULED = "scheduled"
    STARTED = "started"
    CANCELLED = "cancelled"  # a scheduled or sending broadcast stopped
    DISCARDED = "discarded"  # a preview's draft dropped
    PAUSED = "paused"
    RESUMED = "resumed"
    ALREADY_CONFIRMED = "already_confirmed"  # a second Confirm: the first one counted
    NOT_A_DRAFT = "not_a_draft"  # a Cancel that came after the Confirm


@dataclass(frozen=True)
class BroadcastDone(Answer):
    """A broadcast moved (or was found to have moved already), by ``by``."""

    broadcast: views.Broadcast
    outcome: Outcome
    by: Actor


@dataclass(frozen=True)
class BroadcastReport(Answer):
    """One broadcast's state and funnel (``show``, ``stats``)."""

    broadcast: views.Broadcast


@dataclass(frozen=True)
class BroadcastListing(Answer):
    broadcasts: list[views.Broadcast]
    title: str


@dataclass(frozen=True)
class TemplateListing(Answer):
    templates: list[dict[str, Any]]


@dataclass(frozen=True)
class StatsReport(Answer):
    """The numbers for a period and the one before it (the digest and ``stats``)."""

    label: str  # today | yesterday | 7d | 2026-11-29
    timezone: str
    period: Period
    week: list[tuple[str, Totals]] = field(default_factory=list)  # (day label, totals), for a chart


@dataclass(frozen=True)
class SequenceListing(Answer):
    sequences: list[views.SequenceSummary]


@dataclass(frozen=True)
class SequenceReport(Answer):
    sequence: views.Sequence


@dataclass(frozen=True)
class ContactReport(Answer):
    """One contact (phone masked) and its enrollments."""

    contact: Mapping[str, Any]
    enrollments: Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class ContactListing(Answer):
    """Some contacts (phones masked), how many there are in all, and what they were asked by."""

    contacts: list[dict[str, Any]]
    total: int
    title: str


@dataclass(frozen=True)
class EnrollmentListing(Answer):
    """A contact's enrollments; ``who`` is the masked phone."""

    enrollments: Sequence[Mapping[str, Any]]
    who: str
