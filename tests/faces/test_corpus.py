"""The shared corpus through the command layer, on both engines: each phrasing gets the kind of
answer it should, and nothing changes until an admin says yes (only formal commands act at once).

Each phrasing is said in a fresh conversation inside a transaction that is rolled back, so the
world is the same for all of them (``tests/grammar/corpus.py`` describes it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import peewee
import pytest

from bot.container import Herald
from bot.faces import text
from bot.faces.answers import (
    Answer,
    Asked,
    BroadcastDone,
    BroadcastListing,
    BroadcastPreview,
    BroadcastReport,
    ContactListing,
    ContactReport,
    EnrollmentListing,
    Outcome,
    Refused,
    Said,
    StatsReport,
    Why,
)
from bot.faces.commands import CommandHandler
from bot.faces.conversation import Conversation, Memory
from bot.faces.requests import Request
from bot.grammar import Cancel, Confirm
from engine.actor import SYSTEM, Actor
from engine.broadcasts import BroadcastSpec
from engine.clock import ManualClock
from engine.schedule import NOW as SEND_NOW
from engine.schedule import at_local
from storage.models import Broadcast, Contact, ContactTag, Enrollment, Sequence, Template
from tests.grammar.corpus import (
    ASHA,
    CORPUS,
    KOLKATA,
    NOW,
    PRIYA,
    Asks,
    Creates,
    Expect,
    Is,
    Proposes,
    Refuses,
    Stats,
)
from tests.helpers import phones, seed_contacts, seed_templates

ADMIN = Request(Actor("slack", "U_ADMIN"), admin=True, timezone=KOLKATA, notify={"slack": {"channel": "C1"}})
READER = Request(Actor("slack", "U_READER"), admin=False, timezone=KOLKATA)
FORMAL = ("broadcast ", "sequence ", "contacts ", "templates ", "stats", "help")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def _sequence(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "trigger": {"type": "manual"},
        "steps": [{"id": "hello", "type": "message", "template": "order_update"}],
    }


@pytest.fixture
def world(herald: Herald) -> Conversation:
    seed_templates(herald)
    seed_contacts(herald, [(ASHA, ["vip"]), (PRIYA, ["gold"])])
    seed_contacts(herald, [(p, [tag]) for p, tag in zip(phones(3), ["vip", "gold", "new"], strict=True)])

    def build() -> None:
        Contact.update(name="Asha Rao").where(Contact.phone == ASHA).execute()
        Contact.update(name="Priya Iyer").where(Contact.phone == PRIYA).execute()
        herald.sequences.create(_sequence("onboarding"), by=SYSTEM)
        herald.sequences.create(_sequence("Spring Welcome"), by=SYSTEM)
        herald.sequences.activate("onboarding", by=SYSTEM)
        spec = BroadcastSpec("promo_autumn", ["vip"], schedule=SEND_NOW, name="Diwali promo")
        herald.broadcasts.create(spec, by=SYSTEM)
        tomorrow = at_local(datetime(2026, 12, 1, 9, 0), KOLKATA)
        herald.broadcasts.create(
            BroadcastSpec("order_update", ["gold"], schedule=tomorrow, name="Autumn sale"), by=SYSTEM
        )

    herald.in_db(build)
    return Conversation(CommandHandler(herald))


def _state() -> tuple[Any, ...]:
    """Everything a phrasing must leave as it was, except held drafts a preview creates."""
    return (
        [
            (b.id, b.status)
            for b in Broadcast.select().where(Broadcast.status != "draft").order_by(Broadcast.id)
        ],
        [(c.phone, c.name, c.opted_in, c.status) for c in Contact.select().order_by(Contact.id)],
        sorted((t.contact_id, t.tag_id) for t in ContactTag.select()),
        [(e.sequence_id, e.contact_id, e.status) for e in Enrollment.select().order_by(Enrollment.id)],
        [(s.name, s.status) for s in Sequence.select().order_by(Sequence.id)],
        Template.select().count(),
    )


def _say(world: Conversation, text_: str, request: Request = ADMIN) -> tuple[Answer, bool, int]:
    """The answer to ``text_`` in a fresh conversation, whether anything changed, and how many
    held drafts it made; all of it rolled back.
    """
    herald = world.handler.herald
    database: peewee.Database = herald.database

    def said() -> tuple[Answer, bool, int]:
        with database.atomic() as transaction:
            before, drafts = _state(), Broadcast.select().where(Broadcast.status == "draft").count()
            answer = world.reply(text_, Memory(), request)
            changed = _state() != before
            made = Broadcast.select().where(Broadcast.status == "draft").count() - drafts
            transaction.rollback()
        return answer, changed, made

    return herald.in_db(said)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # phrasings are not storage
@pytest.mark.parametrize(("phrase", "expect"), CORPUS, ids=[t for t, _ in CORPUS])
def test_a_phrasing_gets_its_kind_of_answer_and_changes_nothing_before_a_yes(
    world: Conversation, phrase: str, expect: Expect
) -> None:
    answer, changed, drafts = _say(world, phrase)
    shown = text.render(answer)
    formal_change = isinstance(expect, Is) and phrase.startswith(FORMAL)
    assert not changed or formal_change, f"{phrase!r} changed something: {shown}"
    assert drafts == (1 if isinstance(expect, Creates) else 0), shown
    assert "98123456" not in shown.replace("+919812345678", "")  # phones masked (the hint's example aside)
    match expect:
        case Refuses():
            assert isinstance(answer, Refused), shown
        case Proposes():
            assert isinstance(answer, Asked), shown
            assert answer.question is not None
            assert answer.question.confirm
        case Asks():
            assert isinstance(answer, Asked), shown
        case Creates():
            assert isinstance(answer, BroadcastPreview), shown
        case Stats():
            assert isinstance(answer, StatsReport), shown
        case Is(Confirm()):
            assert shown.startswith("There is nothing here waiting for a yes"), shown
        case Is(Cancel()):
            assert isinstance(answer, Said), shown
        case Is():
            assert not isinstance(answer, Refused) or answer.why is Why.CONFLICT, shown


@pytest.mark.parametrize(
    ("phrase", "kind"),
    [
        ("how is the diwali promo doing?", BroadcastReport),
        ("show me scheduled broadcasts", BroadcastListing),
        ("who is +919812345678", ContactReport),
        ("who is asha", ContactReport),
        ("contacts tagged vip", ContactListing),
        ("enrollments of +919812345678", EnrollmentListing),
        ("stats for the last 30 days", StatsReport),
    ],
)
def test_a_reader_gets_answers_in_words(world: Conversation, phrase: str, kind: type) -> None:
    answer, changed, _ = _say(world, phrase, READER)
    assert isinstance(answer, kind), text.render(answer)
    assert not changed


def test_a_change_in_words_is_done_on_yes_and_left_on_no(world: Conversation) -> None:
    herald = world.handler.herald
    memory = Memory()
    asked = herald.in_db(world.reply, "tag +91 98123 45678 as gold", memory, ADMIN)
    assert isinstance(asked, Asked)
    assert "Tag +91••••••5678 with `gold`?" in asked.text
    assert "`contacts tag +91••••••5678 gold`" in asked.text
    assert herald.in_db(lambda: herald.contacts.find(ASHA)["tags"]) == ["vip"]
    done = herald.in_db(world.reply, "yes", memory, ADMIN)
    assert done == Said("Tagged +91••••••5678: gold.")
    assert herald.in_db(lambda: herald.contacts.find(ASHA)["tags"]) == ["gold", "vip"]

    asked = herald.in_db(world.reply, "opt out +919812345679", memory, ADMIN)
    assert isinstance(asked, Asked)
    left = herald.in_db(world.reply, "no", memory, ADMIN)
    assert left == Said("OK, I left it as it was; nothing was changed.")
    assert herald.in_db(lambda: herald.contacts.find(PRIYA)["opted_in"])


def test_only_an_admin_is_asked_to_confirm_a_change(world: Conversation) -> None:
    answer, changed, _ = _say(world, "pause broadcast 1", READER)
    assert isinstance(answer, Refused)
    assert answer.why is Why.FORBIDDEN
    assert not changed


def test_a_broadcast_found_by_name_is_shown_back_before_it_is_paused(world: Conversation) -> None:
    herald = world.handler.herald
    memory = Memory()
    asked = herald.in_db(world.reply, "pause the diwali one", memory, ADMIN)
    assert isinstance(asked, Asked)
    assert asked.text.startswith("Pause broadcast #1 (Diwali promo)? It can resume later.")
    done = herald.in_db(world.reply, "yes", memory, ADMIN)
    assert isinstance(done, BroadcastDone)
    assert done.outcome is Outcome.PAUSED


def test_two_broadcasts_a_name_fits_are_asked_back_by_number(world: Conversation) -> None:
    herald = world.handler.herald
    spec = BroadcastSpec("promo_autumn", ["gold"], name="Diwali reminder")
    herald.in_db(herald.broadcasts.create, spec, by=SYSTEM)
    memory = Memory()
    asked = herald.in_db(world.reply, "how did the diwali one do?", memory, ADMIN)
    assert isinstance(asked, Asked)
    assert "1) #3 Diwali reminder (draft) 2) #1 Diwali promo (sending)" in asked.text
    picked = herald.in_db(world.reply, "2", memory, ADMIN)
    assert isinstance(picked, BroadcastReport)
    assert picked.broadcast["name"] == "Diwali promo"


def test_a_missing_piece_is_asked_for_and_the_rest_kept(world: Conversation) -> None:
    herald = world.handler.herald
    memory = Memory()
    asked = herald.in_db(world.reply, "enroll someone in onboarding", memory, ADMIN)
    assert isinstance(asked, Asked)
    assert "Who should I enroll in `onboarding`?" in asked.text
    proposed = herald.in_db(world.reply, "+91 98123 45679", memory, ADMIN)
    assert isinstance(proposed, Asked)
    assert "Enroll +91••••••5679 in the sequence `onboarding`?" in proposed.text
    done = herald.in_db(world.reply, "yes", memory, ADMIN)
    assert done == Said("Enrolled +91••••••5679 in `onboarding`.")


def test_a_time_with_its_zone_is_previewed_in_that_zone(world: Conversation) -> None:
    answer, _, drafts = _say(world, "send promo_autumn to vip tomorrow 9am New York time")
    assert isinstance(answer, BroadcastPreview)
    assert drafts == 1
    assert "Mon 30 Nov 09:00 America/New_York (14:00 UTC)" in text.render(answer)
