"""Finding things by what people call them: broadcasts by name or words, contacts by name.

The chat faces read "the diwali one" or "who is Asha?"; these queries give them
the candidates (newest first, bounded) and the counts to answer with. Matching a
phrase against the candidates is ``match_names``, a pure function.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import peewee

from engine import views
from engine.contacts import Reach, contact_view
from engine.suggest import closest
from storage import contacts as store
from storage.models import Broadcast, Contact, Template

MAX_CANDIDATES = 500
CLOSE = 0.75


@dataclass(frozen=True, slots=True)
class Named:
    """A broadcast as people name it: its id, name and template."""

    id: int
    name: str
    template: str
    status: str


def broadcast_names(
    since: datetime | None = None, until: datetime | None = None, *, limit: int = MAX_CANDIDATES
) -> list[Named]:
    """The newest broadcasts (started within ``[since, until)`` when given), named."""
    query = (
        Broadcast.select(Broadcast.id, Broadcast.name, Template.name, Broadcast.status)
        .join(Template)
        .order_by(Broadcast.id.desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(Broadcast.started_at >= since)
    if until is not None:
        query = query.where(Broadcast.started_at < until)
    rows: list[tuple[int, str, str, str]] = list(query.tuples())  # type: ignore[arg-type]
    return [Named(*row) for row in rows]


def match_names(wanted: str, named: Sequence[Named]) -> list[Named]:
    """The broadcasts ``wanted`` names, best kind of match first found:

    1. its name or template, in any case (``Diwali promo``, ``promo_autumn``);
    2. every word of it in the name or template (``diwali`` → "Diwali promo");
    3. the closest name or template spelling (``diwli promo``).
    """
    text = " ".join(wanted.lower().replace("_", " ").split())
    exact = [n for n in named if text in (_words(n.name), _words(n.template))]
    if exact:
        return exact
    words = text.split()
    containing = [
        n for n in named if all(w in f"{_words(n.name)} {_words(n.template)}".split() for w in words)
    ]
    if containing:
        return containing
    spelled = {_words(n.name): n for n in reversed(named)} | {_words(n.template): n for n in reversed(named)}
    near = closest(text, spelled, cutoff=CLOSE)
    if near is None:
        return []
    return [n for n in named if near in (_words(n.name), _words(n.template))]


def distinct(found: Iterable[Named]) -> list[Named]:
    """One broadcast per distinct name (the newest), for "did you mean" lists."""
    seen: dict[str, Named] = {}
    for n in found:
        seen.setdefault(n.name.lower(), n)
    return list(seen.values())


def contacts_named(database: peewee.Database, name: str, *, limit: int = 10) -> list[views.Contact]:
    """Active contacts whose name contains ``name`` (any case), by id."""
    wanted = name.strip().lower()
    query = (
        Contact.select()
        .where(peewee.fn.LOWER(Contact.name).contains(wanted) & (Contact.status == "active"))
        .order_by(Contact.id)
        .limit(limit)
    )
    people = list(query)
    tags_by = store.tags_for(database, [c.id for c in people])
    return [contact_view(c, tags_by.get(c.id, [])) for c in people]


def everyone(database: peewee.Database) -> Reach:
    """How many contacts there are, and how many of them can be messaged."""
    total = Contact.select().count()
    deleted = Contact.select().where(Contact.status != "active").count()
    opted_out = Contact.select().where((Contact.status == "active") & ~Contact.opted_in).count()
    return Reach(matched=total, opted_out=opted_out, deleted=deleted, reachable=total - deleted - opted_out)


def _words(text: str) -> str:
    return " ".join(text.lower().replace("_", " ").split())
