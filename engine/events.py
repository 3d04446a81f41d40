"""Domain events and the one small interface that carries them.

Events are published inside the transaction that caused them, and handlers
run synchronously in that transaction: a tag added and the sequence
enrollment it triggers commit or roll back together, and nothing is lost if
the process dies between the two. Events carry ids in bulk, so a CSV import
of a million rows publishes a few hundred events, not a million.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar


@dataclass(frozen=True)
class ContactCreated:
    contact_ids: tuple[int, ...]
    at: datetime


@dataclass(frozen=True)
class TagAdded:
    tag: str
    contact_ids: tuple[int, ...]
    at: datetime


@dataclass(frozen=True)
class ContactOptedOut:
    contact_ids: tuple[int, ...]
    source: str
    at: datetime


@dataclass(frozen=True)
class ContactDeleted:
    contact_ids: tuple[int, ...]
    at: datetime


Event = ContactCreated | TagAdded | ContactOptedOut | ContactDeleted
E = TypeVar("E")


class EventBus:
    """Subscribe handlers by event type; publish calls each in subscription order."""

    def __init__(self) -> None:
        self._handlers: dict[type, list[Callable[[Any], None]]] = defaultdict(list)

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> None:
        self._handlers[event_type].append(handler)

    def publish(self, event: Event) -> None:
        if not getattr(event, "contact_ids", True):
            return
        for handler in self._handlers.get(type(event), ()):
            handler(event)
