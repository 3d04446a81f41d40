"""Properties over any text: the parser and the interpreter answer or refuse, never crash,
and a refusal never shows a whole phone number.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.grammar import (
    BroadcastAction,
    BroadcastCreate,
    BroadcastFind,
    Cancel,
    Command,
    Confirm,
    ContactTag,
    PendingBroadcast,
    PendingChange,
    Question,
    Schedule,
    ScheduleKind,
    SequenceEnroll,
    interpret,
    parse,
)
from bot.grammar.commands import is_change, previews
from engine.errors import UsageError

from .corpus import CORPUS
from .corpus import VOCABULARY as CORPUS_VOCABULARY
from .support import KOLKATA, NEW_YORK, NOW, VOCABULARY

FRAGMENTS = [
    *("broadcast", "/broadcast", "sequence", "contacts", "templates", "stats", "help", "/help"),
    *("list", "show", "send", "cancel", "pause", "resume", "add", "tag", "untag", "optout"),
    *("count", "enroll", "activate", "sync", "today", "yesterday", "7d", "promo", "promo_autum"),
    *("onboarding", "vip", "gold", "tags:", "tags:vip", "tags:vip,gold", "tags: vip,", "tag=vip"),
    *("name:", 'name:"Diwali promo"', "name:'x", "nmae:x", "lang:en_US", "lang:", "language:xx"),
    *("at", "on", "now", "draft", "9am", "9:30pm", "18:30", "9.30", "13pm", "tomorrow", "mon"),
    *("monday", "next", "in 2 hours", "in 0 minutes", "in 99999 weeks", "2026-12-01", "09:00"),
    *("dec 1", "1/12", "2026-02-30", "noon", "midnight", "tonight", "morning", "2:30am"),
    *("+91", "98123", "45678", "+91 98123 45678", "0091", "(+91)", "#12", "12", "0", "-1"),
    *('"', "'", "“", "”", "‘", "—", "\u00a0", "\u200b", "<tel:+447911123456|+44 7911 123456>"),
    *("<@U123>", "&lt;", "&amp;", "yes", "no", "make it", "instead", "to", "and", "for"),
    *("how did", "yesterday's", "do?", "in", "it", "send it", "the", "2", "first", "stop"),
    *("how many", "contacts", "opt out", "remove", "from", "use", "call it", "?", "👍", ":x:"),
    *("IST", "cst", "EDT", "New York time", "Europe/Berlin", "in london", "my time", "gotham time"),
    *("last week", "this month", "last 30 days", "from 1 nov to 15 nov", "since", "between", "and"),
    *("who is", "find", "enrollments of", "is", "enrolled in", "sequences", "templates", "approved"),
    *("the diwali one", "pause the", "cancel the", "status of", "which", "are running", "tagged"),
    *("as", "with tags", "named", "Priya", "someone", "brodcasts", "shwo", "pls", "🙏", "🎉", "sync"),
]
VALID_PHONES = ["+447911123456", "+14155552671", "+5511912345678", "+4930123456"]

near_commands = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=6), min_size=0, max_size=9).map(
    " ".join
)
any_text = st.text(max_size=120) | near_commands
moments = st.sampled_from(
    [
        (NOW, KOLKATA),
        (datetime(2026, 3, 7, 12, 0, tzinfo=ZoneInfo(NEW_YORK)), NEW_YORK),
        (datetime(2026, 10, 31, 23, 30, tzinfo=ZoneInfo(NEW_YORK)), NEW_YORK),
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), "UTC"),
    ]
)
vocabularies = st.sampled_from([None, VOCABULARY])
_SCHEDULE = Schedule(ScheduleKind.AT, KOLKATA, at=datetime(2026, 12, 1, 3, 30, tzinfo=UTC))
previous_turns: st.SearchStrategy[Command | Question | None] = st.sampled_from(
    [
        None,
        BroadcastCreate("promo", ("vip",), _SCHEDULE),
        BroadcastCreate("promo", ("vip",), Schedule(ScheduleKind.NOW, KOLKATA)),
        Question("who?", pending=PendingBroadcast("promo", schedule=_SCHEDULE)),
        Question("when?", pending=PendingBroadcast("promo", tags=("vip",))),
        Question(
            "which?",
            choices=(BroadcastAction("pause", 12), SequenceEnroll("onboarding", "+447911123456")),
        ),
        Question("yes?", choices=(ContactTag("+447911123456", ("vip",)),), confirm=True),
        Question("which template?", pending=PendingBroadcast(None, tags=("vip",), schedule=_SCHEDULE)),
        Question("which sequence?", pending=PendingChange("enroll", "sequence", phone="+447911123456")),
        Question("who?", pending=PendingChange("enroll", "phone", sequence="onboarding")),
        Question("which tags?", pending=PendingChange("tag", "tags", phone="+447911123456")),
        Question("which broadcast?", pending=PendingChange("pause", "broadcast", target="broadcast")),
    ]
)


@settings(max_examples=400, deadline=None)
@given(text=any_text, moment=moments, vocabulary=vocabularies)
def test_parse_answers_with_a_command_or_refuses_with_a_usage_error(
    text: str, moment: tuple[datetime, str], vocabulary: object
) -> None:
    now, tz = moment
    try:
        result: object = parse(text, now=now, tz=tz, vocabulary=vocabulary)  # type: ignore[arg-type]
    except UsageError as err:
        result = err.render()
    assert isinstance(result, Command) or (isinstance(result, str) and result.strip())


@settings(max_examples=400, deadline=None)
@given(text=any_text, moment=moments, vocabulary=vocabularies, previous=previous_turns)
def test_interpret_answers_with_a_command_or_question_or_refuses_with_a_usage_error(
    text: str, moment: tuple[datetime, str], vocabulary: object, previous: Command | Question | None
) -> None:
    now, tz = moment
    try:
        result: object = interpret(
            text,
            now=now,
            tz=tz,
            vocabulary=vocabulary,  # type: ignore[arg-type]
            previous=previous,
        )
    except UsageError as err:
        result = err.render()
    assert isinstance(result, Command | Question) or (isinstance(result, str) and result.strip())


@settings(max_examples=300, deadline=None)
@given(
    before=st.lists(st.sampled_from(FRAGMENTS), max_size=4).map(" ".join),
    phone=st.sampled_from(VALID_PHONES),
    spaced=st.booleans(),
    after=st.lists(st.sampled_from(FRAGMENTS), max_size=3).map(" ".join),
    natural=st.booleans(),
)
def test_a_refusal_never_echoes_a_whole_phone_number(
    before: str, phone: str, spaced: bool, after: str, natural: bool
) -> None:
    written = f"{phone[:3]} {phone[3:7]} {phone[7:]}" if spaced else phone
    text = f"{before} {written} {after}"
    read = interpret if natural else parse
    try:
        found = read(text, now=NOW, tz=KOLKATA, vocabulary=VOCABULARY)
    except UsageError as err:
        shown = err.render()
    else:
        shown = found.text if isinstance(found, Question) else ""  # a question back shows it masked
    digits = re.sub(r"\D", "", shown.replace("+919812345678", ""))  # the example in hints
    assert phone[3:] not in digits


def _mistyped(phrase: str, edits: list[tuple[int, str]]) -> str:
    """``phrase`` with letters dropped, doubled, swapped or capitalised (digits left alone)."""
    chars = list(phrase)
    for at, kind in edits:
        letters = [i for i, c in enumerate(chars) if c.isalpha()]
        if not letters:
            break
        i = letters[at % len(letters)]
        if kind == "drop":
            del chars[i]
        elif kind == "double":
            chars.insert(i, chars[i])
        elif kind == "swap" and i + 1 < len(chars) and chars[i + 1].isalpha():
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        else:
            chars[i] = chars[i].upper()
    return "".join(chars)


@settings(max_examples=400, deadline=None)
@given(
    phrase=st.sampled_from([text for text, _ in CORPUS]),
    edits=st.lists(
        st.tuples(st.integers(0, 500), st.sampled_from(["drop", "double", "swap", "upper"])), max_size=3
    ),
)
def test_a_mistyped_phrase_is_never_done_without_a_yes(phrase: str, edits: list[tuple[int, str]]) -> None:
    """Whatever a typo turns a phrasing into, a change in words still waits for a yes: it is
    shown back (a Question), previewed (a broadcast), or refused; never done as read."""
    text = _mistyped(phrase, edits)
    try:
        found = interpret(text, now=NOW, tz=KOLKATA, vocabulary=CORPUS_VOCABULARY)
    except UsageError:
        return
    if text.split()[:1] and text.split()[0].lower() in ("broadcast", "sequence", "contacts", "templates"):
        return  # the formal language acts as it always has
    done_now = (
        isinstance(found, Command)
        and is_change(found)
        and not previews(found)
        and not isinstance(found, BroadcastFind | Confirm | Cancel)
    )
    assert not done_now, (text, found)
