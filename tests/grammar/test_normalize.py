"""What chat clients do to typed text is undone before parsing."""

from __future__ import annotations

import pytest

from bot.grammar import BroadcastCreate, ContactAdd, normalize

from .support import PHONE, local, read


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("name:“Diwali promo”", 'name:"Diwali promo"'),
        ("name:‘Diwali’", "name:'Diwali'"),
        ("yesterday’s promo", "yesterday's promo"),
        ("tags:vip–gold—x", "tags:vip-gold-x"),
        ("broadcast\u00a0promo\u202ftags:vip", "broadcast promo tags:vip"),
        ("broad\u200bcast pro\u2060mo\ufeff", "broadcast promo"),
        ("  broadcast \n\t promo   tags:vip  ", "broadcast promo tags:vip"),
        ("<tel:+919812345678|+91 98123 45678>", "+91 98123 45678"),
        ("<tel:+919812345678>", "+919812345678"),
        ("<mailto:asha@example.com|asha@example.com>", "asha@example.com"),
        ("<https://example.com|example.com>", "example.com"),
        ("<https://example.com>", "https://example.com"),
        ("<@U0123ABC> send promo", "send promo"),
        ("<@U0123ABC|herald> send promo", "send promo"),
        ("post in <#C0123|general>", "post in #general"),
        ("<!here> look", "@here look"),
        ("vip &amp; gold &lt;3 &gt;", "vip & gold <3 >"),
        ("＋９１ ９８１２３ ４５６７８", "+91 98123 45678"),  # full-width digits
        ("a\x00b\x07c", "a b c"),
    ],
)
def test_chat_client_decoration_is_removed(raw: str, clean: str) -> None:
    assert normalize(raw) == clean


def test_a_slack_command_with_smart_quotes_and_odd_spaces_parses() -> None:
    text = "broadcast\u00a0promo tags:vip,\u200bgold at 6pm name:“Diwali promo”"
    command = read(text)
    assert isinstance(command, BroadcastCreate)
    assert command.tags == ("vip", "gold")
    assert command.name == "Diwali promo"
    assert local(command.schedule.at) == "Mon 2026-11-30 18:00"


def test_a_phone_slack_turned_into_a_link_is_read() -> None:
    command = read("contacts add <tel:+919812345678|+91 98123 45678> name:“Asha”")
    assert command == ContactAdd(phone=PHONE, name="Asha")
