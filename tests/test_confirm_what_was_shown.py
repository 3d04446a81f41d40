"""A Confirm confirms what its preview showed: a broadcast changed after the preview (here by a REST
PATCH of the held chat draft) is previewed again, never sent, on WhatsApp and in the shell."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from bot.container import Herald
from bot.shell import Shell
from engine.actor import Actor
from engine.broadcasts import BroadcastSpec
from engine.schedule import DRAFT
from storage.models import Broadcast
from tests.helpers import phones, seed_contacts, seed_templates
from tests.live import Live

ADMIN = "+919812345678"
CHANGED = "changed after the preview you confirmed"


@pytest.fixture
def live_overrides() -> dict[str, Any]:
    return {"whatsapp_admins": [ADMIN]}


def _audiences(herald: Herald) -> None:
    seed_contacts(herald, [(phones(1)[0], ["vip"])] + [(p, ["gold"]) for p in phones(6, start=100)])


def _texts(live: Live) -> list[str]:
    return [m.payload["text"]["body"] for m in live.cloud.accepted if m.type == "text" and m.to == ADMIN]


async def _say(live: Live, text: str, count: int) -> str:
    at = live.clock.now() + timedelta(seconds=count)
    assert await live.cloud.webhooks.post_inbound(live.webhook_url, ADMIN, text, at=at) == 200
    await live.eventually(lambda: len(_texts(live)) >= count)
    return _texts(live)[count - 1]


async def test_a_whatsapp_yes_to_a_draft_patched_since_its_preview_previews_it_again(live: Live) -> None:
    _audiences(live.herald)
    asked = await _say(live, "broadcast thank_you tags:vip now", 1)
    assert "Reply *YES* to send to 1 contacts now" in asked
    status, _ = await live.api.call(
        "PATCH", "/api/broadcasts/1", json={"template": "thank_you", "tags": ["gold"], "schedule": "draft"}
    )
    assert status == 200
    again = await _say(live, "YES", 2)
    assert CHANGED in again
    assert "Reply *YES* to send to 6 contacts now" in again  # what it is now, asked again
    await live.settle()
    assert [m for m in live.cloud.accepted if m.template] == []
    assert live.herald.in_db(lambda: Broadcast.get_by_id(1).status) == "draft"
    done = await _say(live, "YES", 3)
    assert "#1" in done
    await live.settle()
    assert sorted(m.to for m in live.cloud.accepted if m.template) == phones(6, start=100)


def test_the_shells_y_to_a_draft_changed_since_its_preview_previews_it_again(herald: Herald) -> None:
    seed_templates(herald)
    _audiences(herald)
    answers = iter(["broadcast promo_autumn tags:vip now", "y", "y"])
    out: list[str] = []

    def read(prompt: str) -> str | None:
        out.append(prompt)
        line = next(answers, None)
        if prompt.startswith("Send it now to 1 contacts"):  # meanwhile, someone edits the draft
            spec = BroadcastSpec(template="promo_autumn", tags=["gold"], schedule=DRAFT)
            herald.in_db(herald.broadcasts.edit, 1, spec, by=Actor("api", "api"))
        return line

    assert Shell(herald, read=read, write=out.append, user="asha").run() == 0
    shown = "\n".join(out)
    assert CHANGED in shown
    assert "Send it now to 6 contacts? [y/N] " in out
    assert "is sending to 6 contacts" in shown
    assert herald.in_db(lambda: Broadcast.get_by_id(1).audience_total) == 6


def test_an_unchanged_broadcast_is_confirmed_at_once(herald: Herald) -> None:
    seed_templates(herald)
    _audiences(herald)
    lines: Iterator[str] = iter(["broadcast promo_autumn tags:vip now", "y"])
    out: list[str] = []
    Shell(herald, read=lambda p: out.append(p) or next(lines, None), write=out.append, user="asha").run()
    assert CHANGED not in "\n".join(out)
    assert herald.in_db(lambda: Broadcast.get_by_id(1).status) == "sending"
