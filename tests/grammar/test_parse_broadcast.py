"""The ``broadcast`` command: every form, and every way it is refused."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.grammar import (
    BroadcastAction,
    BroadcastCreate,
    BroadcastList,
    Help,
    Schedule,
    ScheduleKind,
)

from .support import KOLKATA, VOCABULARY, local, read, refusal

EARLY = datetime(2026, 11, 30, 7, 30, tzinfo=ZoneInfo(KOLKATA))


def created(text: str, **kwargs: object) -> BroadcastCreate:
    command = read(text, **kwargs)
    assert isinstance(command, BroadcastCreate)
    return command


def test_the_canonical_form_schedules_for_today() -> None:
    command = created("/broadcast promo tags:vip at 9am", now=EARLY)
    assert command.template == "promo"
    assert command.tags == ("vip",)
    assert command.schedule.kind is ScheduleKind.AT
    assert local(command.schedule.at) == "Mon 2026-11-30 09:00"
    assert command.schedule.timezone == KOLKATA
    assert command.schedule.written == "9am"
    assert command.name is None
    assert command.label == "promo → vip"


def test_the_full_form_carries_tags_date_name() -> None:
    command = created('/broadcast promo tags:vip,gold at 2026-12-01 18:30 name:"Diwali promo"')
    assert command.tags == ("vip", "gold")
    assert local(command.schedule.at) == "Tue 2026-12-01 18:30"
    assert command.schedule.at == datetime(2026, 12, 1, 13, 0, tzinfo=ZoneInfo("UTC"))
    assert command.name == "Diwali promo"
    assert command.label == "Diwali promo"


@pytest.mark.parametrize(
    ("text", "kind", "explicit"),
    [
        ("broadcast promo tags:vip now", ScheduleKind.NOW, True),
        ("broadcast promo tags:vip at now", ScheduleKind.NOW, True),
        ("broadcast promo tags:vip draft", ScheduleKind.DRAFT, True),
        ("broadcast promo tags:vip", ScheduleKind.NOW, False),
        ("broadcast promo tags:vip DRAFT", ScheduleKind.DRAFT, True),
    ],
)
def test_now_draft_and_nothing_are_schedule_kinds(text: str, kind: ScheduleKind, explicit: bool) -> None:
    schedule = created(text).schedule
    assert schedule == Schedule(kind, KOLKATA, explicit=explicit)


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("broadcast promo tags:vip,gold", ("vip", "gold")),
        ("broadcast promo tags:vip, gold", ("vip", "gold")),
        ("broadcast promo tags:vip ,gold", ("vip", "gold")),
        ("broadcast promo tags:vip , gold", ("vip", "gold")),
        ("broadcast promo tags: vip", ("vip",)),
        ("broadcast promo tags: vip, gold now", ("vip", "gold")),
        ("broadcast promo tag:VIP", ("vip",)),
        ("broadcast promo TAGS:Vip,vip,GOLD", ("vip", "gold")),
        ("broadcast promo tags=vip", ("vip",)),
        ("broadcast promo tags:vip,,gold,", ("vip", "gold")),
        ("broadcast promo tags:diwali-2026", ("diwali-2026",)),
        ('broadcast promo tags:"vip, gold"', ("vip", "gold")),
    ],
)
def test_tags_are_read_however_they_are_spaced(text: str, tags: tuple[str, ...]) -> None:
    assert created(text).tags == tags


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("broadcast promo tags:vip at 6pm", "Mon 2026-11-30 18:00"),
        ("broadcast promo tags:vip tomorrow 9am", "Tue 2026-12-01 09:00"),
        ("broadcast promo tags:vip on monday 9am", "Mon 2026-12-07 09:00"),
        ("broadcast promo at tomorrow 9am tags:vip", "Tue 2026-12-01 09:00"),
        ("broadcast tags:vip promo at in 2 hours", "Mon 2026-11-30 12:14"),
        ("broadcast promo tags:vip at 2 hours from now", "Mon 2026-11-30 12:14"),
        ("Broadcast PROMO tags:vip AT 6PM", "Mon 2026-11-30 18:00"),
        ("broadcast " + "promo tags:vip at 6pm", "Mon 2026-11-30 18:00"),  # the Slack face
    ],
)
def test_options_and_time_go_in_any_order(text: str, expected: str) -> None:
    command = created(text)
    assert command.template == "promo"
    assert local(command.schedule.at) == expected


@pytest.mark.parametrize(
    ("text", "name", "language"),
    [
        ('broadcast promo tags:vip name:"Diwali promo"', "Diwali promo", None),
        ("broadcast promo tags:vip name:'Diwali promo'", "Diwali promo", None),
        ('broadcast promo tags:vip name: "Diwali promo"', "Diwali promo", None),
        ("broadcast promo tags:vip name:Diwali", "Diwali", None),
        ('broadcast promo tags:vip name:"Asha\'s shop"', "Asha's shop", None),
        ("broadcast promo tags:vip lang:en", None, "en"),
        ("broadcast promo tags:vip lang:en_US", None, "en_US"),
        ("broadcast promo tags:vip lang:en-us", None, "en_US"),
        ("broadcast promo tags:vip language:pt_br", None, "pt_BR"),
    ],
)
def test_name_and_language_options(text: str, name: str | None, language: str | None) -> None:
    command = created(text)
    assert (command.name, command.language) == (name, language)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("broadcast list", BroadcastList()),
        ("/broadcast list", BroadcastList()),
        ("broadcasts list", BroadcastList()),
        ("broadcast show 12", BroadcastAction("show", 12)),
        ("broadcast show #12", BroadcastAction("show", 12)),
        ("broadcast send 12", BroadcastAction("send", 12)),
        ("broadcast cancel 12", BroadcastAction("cancel", 12)),
        ("broadcast stats 12", BroadcastAction("stats", 12)),
        ("broadcast pause 12", BroadcastAction("pause", 12)),
        ("broadcast RESUME 12", BroadcastAction("resume", 12)),
        ("broadcast", Help("broadcast")),
        ("broadcast help", Help("broadcast")),
        ("broadcast --help", Help("broadcast")),
        ("broadcast send help", Help("broadcast")),
    ],
)
def test_broadcast_subcommands(text: str, command: object) -> None:
    assert read(text) == command


@pytest.mark.parametrize(
    ("text", "words", "suggestion"),
    [
        ("broadcast promo", "Who should get `promo`? Add the tags, like `tags:vip`.", None),
        (
            "broadcast promo vip at 9pm",
            "Who should get `promo`?",
            "broadcast promo tags:vip at 9pm",
        ),
        (
            "broadcast promo vip and gold",
            "Who should get `promo`?",
            "broadcast promo tags:vip,gold",
        ),
        ("broadcast tags:vip", "Which template?", None),
        ("broadcast lsit", "`broadcast` has no `lsit`.", "broadcast list"),
        ("broadcast shwo 12", "`broadcast` has no `shwo`.", "broadcast show"),
        ("broadcast resum 12", "`broadcast` has no `resum`.", "broadcast resume"),
        ("broadcast show", "`broadcast show` needs a broadcast id", None),
        ("broadcast show abc", "`abc` is not a broadcast id", None),
        ("broadcast send 0", "`0` is not a broadcast id", None),
        ("broadcast cancel -3", "`-3` is not a broadcast id", None),
        ("broadcast show 12 13", "`broadcast show` does not take `13`.", None),
        ("broadcast list all", "`broadcast list` does not take `all`.", None),
        ("broadcast list tags:vip", "`tags:` does not apply to `broadcast list`.", None),
        ("broadcast promo tags:vip at", "`at` needs a time after it, like `at 9am`.", None),
        (
            "broadcast promo tags:vip at 9pm draft",
            "Choose one of `at <time>`, `now` or `draft`.",
            None,
        ),
        ("broadcast promo tags:vip now draft", "Choose one of", None),
        ("broadcast promo tags:vip draft at 9pm", "Choose one of", None),
        ("broadcast promo tags:vip nmae:x", "I don't know the option `nmae:`.", "name:"),
        ("broadcast promo tags:vip tgas:gold", "I don't know the option `tgas:`.", "tags:"),
        ("broadcast promo tags:vip tags:gold", "`tags:` is given twice.", None),
        ("broadcast promo tags:", "`tags:` is empty.", None),
        ("broadcast promo tags:,", "`tags:` is empty.", None),
        ('broadcast promo tags:vip name:""', "`name:` is empty.", None),
        ('broadcast promo tags:vip name:"Diwali', 'A " quote is not closed.', None),
        ("broadcast promo tags:vip lang:english", "`english` is not a language code", None),
        ("broadcast Promo! tags:vip", "`Promo!` is not a template name", None),
        ("broadcast promo tags:v!p", "The tag `v!p` has characters Herald does not accept", None),
        ("broadcast promo tags:vip at 9am", "9am today has passed", "tomorrow 9am"),
        ("broadcast promo tags:vip at blorp", "I can't read `blorp` as a time.", None),
        ("broadcast promo tags:vip tomorrow", "`tomorrow` is a day without a time", "tomorrow 9am"),
    ],
)
def test_broadcast_refusals_say_what_is_wrong(text: str, words: str, suggestion: str | None) -> None:
    err = refusal(text)
    assert words in err.message
    assert err.suggestion == suggestion
    assert "Usage: " in err.render()


def test_a_refusal_renders_message_suggestion_and_usage() -> None:
    assert refusal("broadcast lsit").render() == (
        "`broadcast` has no `lsit`. Did you mean `broadcast list`?\n"
        'Usage: broadcast <template> tags:<tag>[,<tag>…] [at <time> | now | draft] [name:"…"]'
        " [lang:<code>]\n"
        "       broadcast list | show <id> | send <id> | cancel <id> | stats <id> | pause <id>"
        " | resume <id>"
    )


def test_a_missing_audience_points_at_the_field() -> None:
    assert refusal("broadcast promo").field == "tags"
    assert refusal("broadcast promo tags:vip at blorp").field == "time"
    assert refusal("broadcast show abc").field == "id"


def test_a_word_near_a_subcommand_is_a_template_when_an_audience_is_given() -> None:
    assert created("broadcast stat tags:vip").template == "stat"


@pytest.mark.parametrize(
    ("text", "words", "suggestion"),
    [
        ("broadcast promo_autum tags:vip", "There is no template `promo_autum`.", "promo_autumn"),
        ("broadcast welcome tags:vip", "There is no template `welcome`.", "welcome_offer"),
        ("broadcast zzzz tags:vip", "There is no template `zzzz`.", None),
        ("broadcast promo tags:vpi", "No contact has the tag `vpi`.", "tags:vip"),
        ("broadcast promo tags:vip,glod", "No contact has the tag `glod`.", "tags:vip,gold"),
        ("broadcast promo tags:vpi,zzzz", "No contact has the tags `vpi`, `zzzz`.", None),
        ("broadcast lsit", "`broadcast` has no `lsit`.", "broadcast list"),
    ],
)
def test_a_vocabulary_refuses_unknown_names_with_the_closest(
    text: str, words: str, suggestion: str | None
) -> None:
    err = refusal(text, vocabulary=VOCABULARY)
    assert words in err.message
    assert err.suggestion == suggestion


def test_known_names_pass_the_vocabulary() -> None:
    command = created("broadcast PROMO_AUTUMN tags:VIP,diwali-2026", vocabulary=VOCABULARY)
    assert (command.template, command.tags) == ("promo_autumn", ("vip", "diwali-2026"))


def test_without_a_vocabulary_names_are_accepted_as_written() -> None:
    assert created("broadcast anything_new tags:brand-new").tags == ("brand-new",)
