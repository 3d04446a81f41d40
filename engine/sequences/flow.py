"""What an enrollment does next: a pure function of its definition, its step and the facts.

``decide`` never reads a clock or a database: the runner gathers the facts
(the time, the contact's tags, what happened to the enrollment's messages)
and applies the outcome. The same facts always give the same outcome, so a
step runs identically under a worker, direct processing and a test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engine.sequences.definition import (
    ConditionStep,
    Definition,
    DelayStep,
    HasTag,
    MessageStatus,
    MessageStep,
)
from storage.states import TERMINAL, RowState


@dataclass(frozen=True)
class MessageFacts:
    """What happened to the message an enrollment sent at one step."""

    state: str  # queued | dispatched | sending | sent | failed | skipped
    delivered: bool = False
    read: bool = False
    replied: bool = False

    @property
    def failed(self) -> bool:
        return self.state == RowState.FAILED

    @property
    def settled(self) -> bool:
        return self.state in TERMINAL


@dataclass(frozen=True)
class Facts:
    now: datetime
    step_started_at: datetime
    tags: frozenset[str] = frozenset()
    messages: dict[str, MessageFacts] = field(default_factory=dict)  # step id -> facts


@dataclass(frozen=True)
class Send:
    """Queue this message step's template for the contact, then wait for it to settle."""

    step: str


@dataclass(frozen=True)
class Wait:
    """Nothing to do before ``until`` (None: until something wakes the enrollment)."""

    until: datetime | None


@dataclass(frozen=True)
class Move:
    """Go to step ``to`` now (None: the sequence is complete)."""

    to: str | None
    branch: str | None = None  # "yes" | "no" for a condition


Outcome = Send | Wait | Move


def decide(definition: Definition, step_id: str, facts: Facts, *, status_timeout: timedelta) -> Outcome:
    """The next thing to do at ``step_id``.

    A message step sends once, then waits until its message is sent, failed
    or skipped (a MARKETING message held by the frequency cap waits here
    until the cap clears). A delay waits from the moment the step started. A
    condition on a message's status waits for that status until
    ``status_timeout`` after the step started, then takes the "no" path; it
    decides early when the answer can no longer change (a failed message
    will never be read).
    """
    step = definition.step(step_id)
    if isinstance(step, MessageStep):
        message = facts.messages.get(step.id)
        if message is None:
            return Send(step.id)
        if not message.settled:
            return Wait(None)
        return Move(definition.following(step.id))
    if isinstance(step, DelayStep):
        due = facts.step_started_at + step.duration
        return Move(definition.following(step.id)) if facts.now >= due else Wait(due)
    return _condition(step, facts, status_timeout)


def _condition(step: ConditionStep, facts: Facts, timeout: timedelta) -> Outcome:
    test = step.if_
    if isinstance(test, HasTag):
        return _branch(step, test.has_tag.strip().lower() in facts.tags)
    assert isinstance(test, MessageStatus)
    answer = status_answer(facts.messages.get(test.message), test.status)
    if answer is not None:
        return _branch(step, answer)
    deadline = facts.step_started_at + timeout
    if facts.now >= deadline:
        return _branch(step, False)
    return Wait(deadline)


def status_answer(message: MessageFacts | None, status: str) -> bool | None:
    """Did the message reach ``status``? None while it still might."""
    if message is None:
        return None
    reached = {
        "delivered": message.delivered,
        "read": message.read,
        "replied": message.replied,
        "failed": message.failed,
    }[status]
    if reached:
        return True
    if message.state == "skipped":
        return False  # never sent: it will never be delivered, read, replied to or failed
    if status == "failed" and message.delivered:
        return False  # delivered messages do not fail afterwards
    if status != "failed" and message.failed:
        return False
    return None


def _branch(step: ConditionStep, yes: bool) -> Move:
    return Move(step.yes if yes else step.no, "yes" if yes else "no")
