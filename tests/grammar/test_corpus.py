"""Every phrasing of the shared corpus is read as what it means, and never as another action."""

from __future__ import annotations

from collections import Counter
from zoneinfo import ZoneInfo

import pytest

from bot.grammar import (
    BroadcastCreate,
    BroadcastFind,
    Cancel,
    Command,
    Confirm,
    Question,
    ScheduleKind,
    Stats,
    interpret,
)
from bot.grammar.commands import is_change, previews
from engine.errors import UsageError

from .corpus import CORPUS, KOLKATA, NOW, VOCABULARY, Asks, Creates, Expect, Is, Proposes, Refuses
from .corpus import Stats as StatsOf

MIN_PHRASINGS = 150


def read(text: str) -> Command | Question:
    return interpret(text, now=NOW, tz=KOLKATA, vocabulary=VOCABULARY)


def test_the_corpus_is_large_and_has_several_phrasings_per_kind() -> None:
    assert len(CORPUS) >= MIN_PHRASINGS
    assert len({text for text, _ in CORPUS}) == len(CORPUS)
    kinds = Counter(type(expect).__name__ for _, expect in CORPUS)
    assert min(kinds.values()) >= 5, kinds


@pytest.mark.parametrize(("text", "expect"), CORPUS, ids=[text for text, _ in CORPUS])
def test_a_phrasing_is_read_as_what_it_means(text: str, expect: Expect) -> None:
    if isinstance(expect, Refuses):
        with pytest.raises(UsageError) as caught:
            read(text)
        assert expect.words in caught.value.render()
        return
    found = read(text)
    match expect:
        case Is(command):
            assert found == command
        case Proposes(command):
            assert isinstance(found, Question), found
            assert found.confirm
            assert found.choices == (command,)
        case Creates(template, tags, when):
            assert isinstance(found, BroadcastCreate), found
            assert (found.template, found.tags) == (template, tags)
            assert _when(found) == when
        case StatsOf(label):
            assert isinstance(found, Stats), found
            assert found.window.label == label
        case Asks(missing, choices):
            assert isinstance(found, Question), found
            assert not found.confirm
            if missing is not None:
                assert found.pending is not None, found
                assert found.pending.missing == missing
            assert len(found.choices) == choices


def test_a_change_read_from_words_is_never_done_before_a_yes() -> None:
    """No plain-words phrasing in the corpus comes back as a change to do now: it is a
    proposal, a question, a broadcast to preview, a broadcast named in words (found, then
    proposed, by the command layer: ``tests/faces/test_corpus.py``), or a formal command."""
    for text, expect in CORPUS:
        if isinstance(expect, Refuses):
            continue
        found = read(text)
        done_now = (
            isinstance(found, Command)
            and is_change(found)
            and not previews(found)
            and not isinstance(found, BroadcastFind | Confirm | Cancel)
        )
        if done_now and not (isinstance(expect, Is) and _formal(text)):
            pytest.fail(f"{text!r} was read as {found!r}, to be done without a yes")


def _formal(text: str) -> bool:
    return text.split(maxsplit=1)[0] in ("broadcast", "sequence", "contacts", "templates", "stats", "help")


def _when(command: BroadcastCreate) -> str:
    schedule = command.schedule
    if schedule.kind is not ScheduleKind.AT:
        return str(schedule.kind)
    assert schedule.at is not None
    assert schedule.timezone is not None
    local = schedule.at.astimezone(ZoneInfo(schedule.timezone))
    return f"{local:%a %Y-%m-%d %H:%M} {local.tzname()}"
