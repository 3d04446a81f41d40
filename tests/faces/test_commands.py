"""The shared command layer: every face's commands, refusals and confirmations, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.container import Herald
from bot.faces import text
from bot.faces.answers import (
    Asked,
    BroadcastDone,
    BroadcastListing,
    BroadcastPreview,
    BroadcastReport,
    Intent,
    Outcome,
    Refused,
    Said,
    StatsReport,
    TemplateListing,
    Why,
)
from bot.faces.commands import CommandHandler
from bot.faces.conversation import Conversation, Memories, Memory
from bot.faces.requests import Request
from engine.actor import SYSTEM, Actor
from storage.models import AuditLog, Broadcast, Contact
from tests.helpers import phones, seed_contacts, seed_templates

ADMIN = Request(Actor("slack", "U_ADMIN"), admin=True, timezone="UTC", notify={"slack": {"channel": "C1"}})
READER = Request(Actor("slack", "U_READER"), admin=False, timezone="UTC")


@pytest.fixture
def handler(herald: Herald) -> CommandHandler:
    seed_templates(herald)
    seed_contacts(herald, [(p, ["vip"]) for p in phones(12)])
    herald.in_db(herald.sequences.create, ONBOARDING, by=SYSTEM)
    return CommandHandler(herald)


ONBOARDING = {
    "name": "onboarding",
    "trigger": {"type": "manual"},
    "steps": [{"id": "hello", "type": "message", "template": "order_update"}],
}


def run(handler: CommandHandler, line: str, request: Request = ADMIN):
    return handler.herald.in_db(handler.run, line, request)


def _confirm(handler: CommandHandler, preview: BroadcastPreview) -> Any:
    """The preview's Confirm, as its button would send it."""
    return handler.confirm(preview.broadcast["id"], ADMIN, preview.intent, seen=preview.fingerprint)


def _broadcasts(herald: Herald) -> list[tuple[int, str]]:
    return herald.in_db(lambda: [(b.id, b.status) for b in Broadcast.select().order_by(Broadcast.id)])


def test_a_broadcast_is_previewed_as_a_held_draft_with_masked_phones(handler: CommandHandler) -> None:
    answer = run(handler, "broadcast promo_autumn tags:vip now")
    assert isinstance(answer, BroadcastPreview)
    assert answer.intent is Intent.CONFIRM
    assert answer.broadcast["status"] == "draft"
    assert answer.broadcast["notify"] == {"slack": {"channel": "C1"}}
    assert (answer.preview.matched, answer.preview.will_send, len(answer.preview.sample)) == (12, 12, 10)
    assert all("•" in c["phone"] for c in answer.preview.sample)
    shown = text.render(answer)
    assert "+4479110" not in shown
    assert "12 will get it" in shown


def test_confirm_starts_once_and_a_second_confirm_says_so(handler: CommandHandler) -> None:
    preview = run(handler, "broadcast promo_autumn tags:vip now")
    first = handler.herald.in_db(_confirm, handler, preview)
    second = handler.herald.in_db(_confirm, handler, preview)
    assert isinstance(first, BroadcastDone)
    assert first.outcome is Outcome.STARTED
    assert isinstance(second, BroadcastDone)
    assert second.outcome is Outcome.ALREADY_CONFIRMED
    assert "already confirmed: it is sending" in text.render(second)


def test_a_time_in_the_askers_zone_is_scheduled_on_confirm(handler: CommandHandler) -> None:
    preview = run(handler, "broadcast promo_autumn tags:vip at 9am")
    assert "Mon 30 Nov 09:00 UTC" in text.render(preview)
    done = handler.herald.in_db(_confirm, handler, preview)
    assert done.outcome is Outcome.SCHEDULED
    assert done.broadcast["scheduled_at"] == "2026-11-30T09:00:00Z"


def test_a_preview_cancel_drops_the_draft_but_not_a_confirmed_broadcast(handler: CommandHandler) -> None:
    dropped = run(handler, "broadcast promo_autumn tags:vip now")
    assert handler.herald.in_db(handler.discard, dropped.broadcast["id"], ADMIN).outcome is Outcome.DISCARDED
    kept = run(handler, "broadcast promo_autumn tags:vip now")
    handler.herald.in_db(_confirm, handler, kept)
    late = handler.herald.in_db(handler.discard, kept.broadcast["id"], ADMIN)
    assert late.outcome is Outcome.NOT_A_DRAFT
    assert _broadcasts(handler.herald) == [
        (dropped.broadcast["id"], "cancelled"),
        (kept.broadcast["id"], "sending"),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "broadcast promo_autumn tags:vip now",
        "broadcast send 1",
        "broadcast cancel 1",
        "contacts add +447911000999 tags:vip",
        "contacts tag +447911000001 gold",
        "contacts optout +447911000001",
        "templates sync",
        "sequence enroll onboarding +447911000001",
    ],
)
def test_a_non_admin_is_refused_and_nothing_changes(handler: CommandHandler, line: str) -> None:
    before = handler.herald.in_db(
        lambda: [(c.phone, c.opted_in) for c in Contact.select().order_by(Contact.id)]
    )
    answer = run(handler, line, READER)
    assert isinstance(answer, Refused)
    assert answer.why is Why.FORBIDDEN
    assert "SLACK_ADMINS" in answer.text
    assert _broadcasts(handler.herald) == []
    after = handler.herald.in_db(
        lambda: [(c.phone, c.opted_in) for c in Contact.select().order_by(Contact.id)]
    )
    assert after == before
    refusals = handler.herald.in_db(
        lambda: [a.actor for a in AuditLog.select().where(AuditLog.action == "refused")]
    )
    assert refusals == ["U_READER"]


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("broadcast list", BroadcastListing),
        ("stats yesterday", StatsReport),
        ("templates list", TemplateListing),
        ("contacts count tags:vip", Said),
        ("broadcast help", Said),
    ],
)
def test_anyone_may_read(handler: CommandHandler, line: str, kind: type) -> None:
    assert isinstance(run(handler, line, READER), kind)


def test_a_mistyped_command_gets_the_usage_and_a_suggestion(handler: CommandHandler) -> None:
    answer = run(handler, "broadcast promo_autum tags:vip now")
    assert isinstance(answer, Refused)
    assert answer.why is Why.USAGE
    assert "Did you mean `promo_autumn`?" in answer.text
    assert "Usage: broadcast <template>" in answer.text


def test_an_unapproved_template_is_refused_by_the_engine_and_nothing_is_created(
    handler: CommandHandler,
) -> None:
    answer = run(handler, "broadcast promo_winter tags:vip now")
    assert isinstance(answer, Refused)
    assert "PENDING" in answer.text
    assert _broadcasts(handler.herald) == []


def test_send_previews_an_existing_draft_and_confirming_starts_it(handler: CommandHandler) -> None:
    draft = run(handler, "broadcast promo_autumn tags:vip draft")
    assert draft.intent is None
    preview = run(handler, f"broadcast send {draft.broadcast['id']}")
    assert isinstance(preview, BroadcastPreview)
    assert preview.intent is Intent.SEND
    done = handler.herald.in_db(_confirm, handler, preview)
    assert done.outcome is Outcome.STARTED
    again = run(handler, f"broadcast send {draft.broadcast['id']}")
    assert isinstance(again, Refused)
    assert again.why is Why.CONFLICT


def test_contacts_are_added_tagged_untagged_opted_out_and_counted(handler: CommandHandler) -> None:
    phone = "+919812345678"
    added = run(handler, f'contacts add {phone} name:"Asha" tags:gold')
    assert added == Said("Added +91••••••5678 (Asha) with tags gold.")
    assert run(handler, f"contacts tag {phone} vip new") == Said("Tagged +91••••••5678: vip, new.")
    assert run(handler, f"contacts untag {phone} new") == Said("Removed new from +91••••••5678.")
    assert isinstance(run(handler, f"contacts untag {phone} new"), Refused)
    assert "opted out" in run(handler, f"contacts optout {phone}").text
    counted = run(handler, "contacts count tags:vip,gold")
    assert counted.text.startswith(
        "12 contacts with vip or gold can be messaged (13 have the tags; 1 opted out"
    )
    audit = handler.herald.in_db(lambda: [(a.action, a.detail.get("phone")) for a in AuditLog.select()])
    assert ("contact.create", "+91••••••5678") in audit
    assert all(phone not in str(row) for row in audit)


def test_show_and_find_report_a_broadcast(handler: CommandHandler) -> None:
    preview = run(handler, "broadcast promo_autumn tags:vip now")
    handler.herald.in_db(_confirm, handler, preview)
    shown = run(handler, f"broadcast show {preview.broadcast['id']}")
    assert isinstance(shown, BroadcastReport)
    assert "Sending" in text.render(shown)
    found = handler.herald.in_db(handler.handle, _find("promo_autumn"), READER)
    assert isinstance(found, BroadcastReport)


def _find(what: str):
    from bot.grammar import BroadcastFind

    return BroadcastFind(what)


def test_a_conversation_previews_edits_in_place_and_confirms_on_yes(handler: CommandHandler) -> None:
    chat = Conversation(handler)
    memory = Memory()
    herald = handler.herald

    first = herald.in_db(chat.reply, "send promo_autumn to vip tomorrow at 9", memory, ADMIN)
    assert isinstance(first, BroadcastPreview)
    assert first.broadcast["scheduled_at"] == "2026-12-01T09:00:00Z"
    edited = herald.in_db(chat.reply, "make it 10am instead", memory, ADMIN)
    assert isinstance(edited, BroadcastPreview)
    assert edited.broadcast["id"] == first.broadcast["id"]  # the same draft, changed
    assert edited.broadcast["scheduled_at"] == "2026-12-01T10:00:00Z"
    done = herald.in_db(chat.reply, "yes", memory, ADMIN)
    assert isinstance(done, BroadcastDone)
    assert done.outcome is Outcome.SCHEDULED
    assert _broadcasts(herald) == [(first.broadcast["id"], "scheduled")]
    assert memory.pending is None
    again = herald.in_db(chat.reply, "yes", memory, ADMIN)
    assert again.text.startswith("There is nothing here waiting for a yes.")


def test_a_conversation_asks_back_and_takes_the_answer(handler: CommandHandler) -> None:
    chat = Conversation(handler)
    memory = Memory()
    asked = handler.herald.in_db(chat.reply, "send promo_autumn tomorrow at 9", memory, ADMIN)
    assert isinstance(asked, Asked)
    answered = handler.herald.in_db(chat.reply, "vip", memory, ADMIN)
    assert isinstance(answered, BroadcastPreview)
    dropped = handler.herald.in_db(chat.reply, "no", memory, ADMIN)
    assert dropped.outcome is Outcome.DISCARDED


def test_memories_are_forgotten_after_their_time() -> None:
    now = [0.0]
    memories = Memories(ttl=60, clock=lambda: now[0])
    memories.get("a").pending = 5
    now[0] = 30
    assert memories.get("a").pending == 5
    now[0] = 100
    assert memories.get("a").pending is None
    memories.get("b").pending = 7
    memories.forget_pending(7)
    assert memories.get("b").pending is None


def test_stats_render_compared_with_the_period_before(handler: CommandHandler) -> None:
    preview = run(handler, "broadcast promo_autumn tags:vip now")
    handler.herald.in_db(_confirm, handler, preview)
    answer = run(handler, "stats today")
    assert isinstance(answer, StatsReport)
    assert answer.period.start == datetime(2026, 11, 30, tzinfo=UTC)
    shown = text.render(answer)
    assert shown.startswith("Today so far (UTC)")
    assert "Broadcasts started: 1" in shown


def test_sequence_commands_drive_the_sequence_engine(handler: CommandHandler) -> None:
    assert "`onboarding` · draft · trigger: manual" in text.render(run(handler, "sequence list", READER))
    assert run(handler, "sequence activate onboarding") == Said("Sequence `onboarding` is active.")
    activated = handler.herald.in_db(
        lambda: [a.actor for a in AuditLog.select().where(AuditLog.action == "sequence.activate")]
    )
    assert activated == ["U_ADMIN"]
    phone = phones(1)[0]
    assert run(handler, f"sequence enroll onboarding {phone}") == Said(
        "Enrolled +44••••••0000 in `onboarding`."
    )
    again = run(handler, f"sequence enroll onboarding {phone}")
    assert isinstance(again, Refused)
    assert again.why is Why.CONFLICT
    assert "already enrolled" in again.text
    shown = text.render(run(handler, "sequence show onboarding", READER))
    assert "1 enrolled · 1 active · 0 completed · 0 exited" in shown
    typo = run(handler, "sequence show onbording", READER)
    assert "Did you mean `onboarding`?" in typo.text
