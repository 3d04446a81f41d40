"""Command words, templates, stats, help, and what every face shares (slash, limits, now)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.grammar import Help, Stats, TemplateList, TemplateSync, messages, parse
from bot.grammar.parser import MAX_TEXT

from .support import KOLKATA, NOW, read, refusal


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", Help()),
        ("   ", Help()),
        ("/", Help()),
        ("help", Help()),
        ("/help", Help()),
        ("help broadcast", Help("broadcast")),
        ("help /broadcast", Help("broadcast")),
        ("help broadcasts", Help("broadcast")),
        ("help contact", Help("contacts")),
        ("help times", Help("times")),
        ("help time", Help("times")),
        ("HELP Stats", Help("stats")),
        ("templates list", TemplateList()),
        ("/templates list", TemplateList()),
        ("template list", TemplateList()),
        ("templates sync", TemplateSync()),
        ("templates", Help("templates")),
        ("templates help", Help("templates")),
        ("stats help", Help("stats")),
    ],
)
def test_help_and_templates(text: str, command: object) -> None:
    assert read(text) == command


@pytest.mark.parametrize(
    ("text", "label", "start", "end"),
    [
        ("stats", "today", datetime(2026, 11, 29, 18, 30), datetime(2026, 11, 30, 18, 30)),
        ("stats today", "today", datetime(2026, 11, 29, 18, 30), datetime(2026, 11, 30, 18, 30)),
        (
            "stats yesterday",
            "yesterday",
            datetime(2026, 11, 28, 18, 30),
            datetime(2026, 11, 29, 18, 30),
        ),
        ("stats 7d", "7d", datetime(2026, 11, 23, 18, 30), datetime(2026, 11, 30, 18, 30)),
        ("stats 7 days", "7d", datetime(2026, 11, 23, 18, 30), datetime(2026, 11, 30, 18, 30)),
        ("stats week", "7d", datetime(2026, 11, 23, 18, 30), datetime(2026, 11, 30, 18, 30)),
        (
            "/stats Yesterday",
            "yesterday",
            datetime(2026, 11, 28, 18, 30),
            datetime(2026, 11, 29, 18, 30),
        ),
    ],
)
def test_stats_periods_are_local_days_as_utc_windows(
    text: str, label: str, start: datetime, end: datetime
) -> None:
    command = read(text)
    assert isinstance(command, Stats)
    window = command.window
    assert (window.label, window.timezone) == (label, KOLKATA)
    assert (window.start, window.end) == (start.replace(tzinfo=UTC), end.replace(tzinfo=UTC))


@pytest.mark.parametrize(
    ("text", "words", "suggestion"),
    [
        ("brodcast promo tags:vip", "I don't know the command `brodcast`.", "broadcast"),
        ("sequnce list", "I don't know the command `sequnce`.", "sequence"),
        ("contcts add +919812345678", "I don't know the command `contcts`.", "contacts"),
        ("xyzzy", "I don't know the command `xyzzy`.", None),
        ("tags:vip", "I don't know the command `tags:`.", None),
        ("help brodcast", "There is no help on `brodcast`.", "help broadcast"),
        ("help xyzzy", "There is no help on `xyzzy`.", None),
        ("help name:x", "`name:` does not apply to `help`.", None),
        ("templates snyc", "`templates` has no `snyc`.", "templates sync"),
        ("templates list all", "`templates list` does not take `all`.", None),
        ("templates tags:vip", "`tags:` does not apply to `templates`.", None),
        (
            "stats yesterdy",
            "`yesterdy` is not a period: use today, yesterday, 7d,",
            "stats yesterday",
        ),
        ("stats month", "`month` is not a period", None),
        ("stats tags:vip", "`tags:` does not apply to `stats`.", None),
        ('help "', 'A " quote is not closed.', None),
        ("x" * (MAX_TEXT + 1), f"That command is longer than {MAX_TEXT} characters.", None),
    ],
)
def test_refusals_for_command_words_templates_stats_and_help(
    text: str, words: str, suggestion: str | None
) -> None:
    err = refusal(text)
    assert words in err.message
    assert err.suggestion == suggestion


def test_an_unknown_command_shows_the_help_usage() -> None:
    assert refusal("brodcast").usage == messages.USAGE["help"]


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse("stats", now=datetime(2026, 11, 30, 10, 14), tz=KOLKATA)


def test_parsing_is_pure_the_same_text_gives_the_same_command() -> None:
    text = '/broadcast promo tags:vip,gold at tomorrow 6pm name:"Diwali promo"'
    assert parse(text, now=NOW, tz=KOLKATA) == parse(text, now=NOW, tz=KOLKATA)


def test_every_help_topic_has_text_and_mentions_its_usage() -> None:
    for topic in messages.HELP_TOPICS:
        command = read(f"help {topic}")
        assert command == Help(topic)
        assert messages.HELP[topic]
    for command_word in ("broadcast", "sequence", "templates", "stats"):
        assert messages.USAGE[command_word] in messages.HELP[command_word]
        assert messages.USAGE[command_word] in messages.HELP[None]
    for form in ("add", "tag", "untag", "optout", "count"):
        assert messages.USAGE[f"contacts {form}"] in messages.HELP["contacts"]


@pytest.mark.parametrize(
    ("clock", "written"),
    [
        ((9, 0), "9am"),
        ((21, 30), "9:30pm"),
        ((0, 0), "12am"),
        ((12, 0), "12pm"),
        ((23, 59), "11:59pm"),
    ],
)
def test_clock_times_are_written_the_way_the_parser_reads_them(clock: tuple[int, int], written: str) -> None:
    from datetime import time

    from bot.grammar.times import read_time

    assert messages.clock(time(*clock)) == written
    moment = read_time(f"tomorrow {written}", now=NOW, tz=KOLKATA).local
    assert (moment.hour, moment.minute) == clock
