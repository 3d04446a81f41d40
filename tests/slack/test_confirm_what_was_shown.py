"""A Slack Confirm (button or "yes") confirms what its preview showed: a held draft PATCHed through
the REST API since its preview is previewed again, never sent, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from bot.slack.views.broadcast import CONFIRM_ACTION
from storage.models import Broadcast
from tests.helpers import phones, seed_contacts
from tests.slack.conftest import SlackWorld

CHANGED = "changed after the preview you confirmed"
VIP, GOLD = phones(1), phones(6, start=100)
PATCH = {"template": "promo_autumn", "tags": ["gold"], "schedule": "draft"}


def _text(message: dict[str, Any]) -> str:
    return str(message.get("blocks") or message.get("text"))


def _sent(slack: SlackWorld) -> list[str]:
    return sorted(m.to for m in slack.live.cloud.accepted if m.template)


async def test_a_confirm_click_after_a_rest_patch_of_the_draft_answers_a_fresh_preview(
    slack: SlackWorld,
) -> None:
    live = slack.live
    seed_contacts(live.herald, [(p, ["vip"]) for p in VIP] + [(p, ["gold"]) for p in GOLD])
    preview = await slack.answer((await slack.command("/broadcast promo_autumn tags:vip now")).key)
    assert "1 will get it" in _text(preview)
    status, patched = await live.api.call("PATCH", "/api/broadcasts/1", json=PATCH)
    assert (status, patched["tags"]) == (200, ["gold"])

    fresh = await slack.answer((await slack.click(preview, CONFIRM_ACTION)).key)
    assert fresh["replace_original"] is True  # the old preview gives way to what it is now
    assert CHANGED in _text(fresh)
    assert "6 will get it" in _text(fresh)
    await live.settle()
    assert _sent(slack) == []
    assert live.herald.in_db(lambda: Broadcast.get_by_id(1).status) == "draft"

    done = await slack.answer((await slack.click(fresh, CONFIRM_ACTION)).key)
    assert "Confirmed by" in _text(done)
    await live.settle()
    assert _sent(slack) == GOLD


async def test_a_button_from_before_fingerprints_answers_a_fresh_preview(slack: SlackWorld) -> None:
    live = slack.live
    seed_contacts(live.herald, [(p, ["vip"]) for p in VIP])
    preview = await slack.answer((await slack.command("/broadcast promo_autumn tags:vip now")).key)
    for block in preview["blocks"]:
        for element in block.get("elements", []):
            if "value" in element:
                element["value"] = "1:confirm"  # as Herald wrote it before this change
    fresh = await slack.answer((await slack.click(preview, CONFIRM_ACTION)).key)
    assert CHANGED in _text(fresh)
    await live.settle()
    assert _sent(slack) == []


async def test_a_yes_in_a_dm_after_a_rest_patch_of_the_draft_answers_a_fresh_preview(
    slack: SlackWorld,
) -> None:
    live, fake = slack.live, slack.fake
    seed_contacts(live.herald, [(p, ["vip"]) for p in VIP] + [(p, ["gold"]) for p in GOLD])
    await slack.dm("send promo_autumn to vip now")
    await fake.wait(lambda: "1 will get it" in str(slack.posts("D0ADMIN")))
    assert (await live.api.call("PATCH", "/api/broadcasts/1", json=PATCH))[0] == 200
    await slack.dm("yes")
    await fake.wait(lambda: CHANGED in str(slack.posts("D0ADMIN")))
    assert "6 will get it" in _text(slack.posts("D0ADMIN")[-1])
    await live.settle()
    assert _sent(slack) == []
    await slack.dm("yes")
    await fake.wait(lambda: "Confirmed by" in str(slack.posts("D0ADMIN")))
    await live.settle()
    assert _sent(slack) == GOLD
