"""The ``contacts`` and ``sequence`` commands: phones, tags, sequence names."""

from __future__ import annotations

import re

import pytest

from bot.grammar import (
    ContactAdd,
    ContactCount,
    ContactOptOut,
    ContactTag,
    ContactUntag,
    Help,
    SequenceAction,
    SequenceEnroll,
    SequenceList,
)

from .support import PHONE, VOCABULARY, read, refusal


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("contacts add +919812345678", ContactAdd(PHONE)),
        ("contacts add +91 98123 45678", ContactAdd(PHONE)),
        ("contacts add (+91) 98123-45678", ContactAdd(PHONE)),
        ("contact add 0091 98123 45678", ContactAdd(PHONE)),
        ('contacts add +919812345678 name:"Asha Rao"', ContactAdd(PHONE, name="Asha Rao")),
        (
            'contacts add +91 98123 45678 name:"Asha" tags:vip,gold',
            ContactAdd(PHONE, name="Asha", tags=("vip", "gold")),
        ),
        ("contacts add tags:new +919812345678", ContactAdd(PHONE, tags=("new",))),
        ("contacts add +44 7911 123456", ContactAdd("+447911123456")),
        ("contacts tag +919812345678 vip", ContactTag(PHONE, ("vip",))),
        ("contacts tag +919812345678 vip gold", ContactTag(PHONE, ("vip", "gold"))),
        ("contacts tag +91 98123 45678 vip, gold", ContactTag(PHONE, ("vip", "gold"))),
        ("contacts tag +919812345678 tags:vip", ContactTag(PHONE, ("vip",))),
        ("contacts tag +919812345678 2026", ContactTag(PHONE, ("2026",))),  # a tag, not digits
        ("contacts tag +919812345678 brand-new", ContactTag(PHONE, ("brand-new",))),
        ("contacts untag +919812345678 vip", ContactUntag(PHONE, ("vip",))),
        ("contacts untag +919812345678 vip gold", ContactUntag(PHONE, ("vip", "gold"))),
        ("contacts optout +919812345678", ContactOptOut(PHONE)),
        ("contacts opt-out +91 98123 45678", ContactOptOut(PHONE)),
        ("contacts count tags:vip", ContactCount(("vip",))),
        ("contacts count tags:vip,gold", ContactCount(("vip", "gold"))),
        ("contacts count vip gold", ContactCount(("vip", "gold"))),
        ("contacts", Help("contacts")),
        ("contacts help", Help("contacts")),
        ("contacts add help", Help("contacts")),
    ],
)
def test_contacts_forms(text: str, command: object) -> None:
    assert read(text) == command


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("sequence list", SequenceList()),
        ("sequences list", SequenceList()),
        ("sequence show onboarding", SequenceAction("show", "onboarding")),
        ("sequence activate onboarding", SequenceAction("activate", "onboarding")),
        ("sequence pause onboarding", SequenceAction("pause", "onboarding")),
        ("sequence show 'spring welcome'", SequenceAction("show", "spring welcome")),
        ("sequence enroll onboarding +919812345678", SequenceEnroll("onboarding", PHONE)),
        ("sequence enroll onboarding +91 98123 45678", SequenceEnroll("onboarding", PHONE)),
        ("sequence enroll +91 98123 45678 onboarding", SequenceEnroll("onboarding", PHONE)),
        ("sequence enrol onboarding +919812345678", SequenceEnroll("onboarding", PHONE)),
        ("/sequence enroll onboarding +919812345678", SequenceEnroll("onboarding", PHONE)),
        ("sequence", Help("sequence")),
    ],
)
def test_sequence_forms(text: str, command: object) -> None:
    assert read(text) == command


def test_a_vocabulary_gives_sequence_names_their_own_spelling() -> None:
    command = read("sequence show 'spring welcome'", vocabulary=VOCABULARY)
    assert command == SequenceAction("show", "Spring Welcome")


@pytest.mark.parametrize(
    ("text", "words", "suggestion"),
    [
        ("contacts add", "`contacts add` needs a phone number in international form", None),
        ("contacts add Asha", "`contacts add` needs a phone number", None),
        ("contacts add 9812345678", "has no country code", None),
        ("contacts add +91 12", "is too short", None),
        ("contacts add +999 12345678", "unknown country code", None),
        (
            "contacts add +919812345678 Asha",
            '`Asha` is not part of a phone number; a name goes in `name:"…"`.',
            'name:"Asha"',
        ),
        ("contacts tag +919812345678", "`contacts tag` needs at least one tag.", None),
        ("contacts tag vip +919812345678", "`contacts tag` needs a phone number", None),
        ("contacts tag +919812345678 v!p", "The tag `v!p` has characters", None),
        ("contacts tag +919812345678 name:x", "`name:` does not apply to `contacts tag`.", None),
        ("contacts optout +919812345678 now", "`contacts optout` does not take `now`.", None),
        ("contacts optout +919812345678 tags:vip", "`tags:` does not apply", None),
        ("contacts count", "`contacts count` needs at least one tag.", None),
        ("contacts ad +919812345678", "`contacts` has no `ad`.", "contacts add"),
        ("contacts optuot +919812345678", "`contacts` has no `optuot`.", "contacts optout"),
        ("contacts tags:vip", "`contacts` needs to know what to do.", None),
        ("sequence show", "`sequence show` needs a sequence name.", None),
        ("sequence show spring welcome", "`sequence show` takes one name", None),
        ("sequence enroll onboarding", "`sequence enroll` needs a phone number", None),
        ("sequence enroll onboarding +91 12", "is too short", None),
        ("sequence enroll onboarding +919812345678 now", "does not take `now`", None),
        ("sequence actvate onboarding", "`sequence` has no `actvate`.", "sequence activate"),
        ("sequence list all", "`sequence list` does not take `all`.", None),
    ],
)
def test_people_refusals_say_what_is_wrong(text: str, words: str, suggestion: str | None) -> None:
    err = refusal(text)
    assert words in err.message
    assert err.suggestion == suggestion
    assert "Usage: " in err.render()


@pytest.mark.parametrize(
    ("text", "words", "suggestion"),
    [
        ("sequence show onbording", "There is no sequence `onbording`.", "onboarding"),
        (
            "sequence enroll welcome +919812345678",
            "There is no sequence `welcome`.",
            "Spring Welcome",
        ),
        ("sequence show +919812345678", "There is no sequence `+91••••••5678`.", None),
        ("contacts count tags:vpi", "No contact has the tag `vpi`.", "tags:vip"),
    ],
)
def test_a_vocabulary_refuses_unknown_sequences_and_counted_tags(
    text: str, words: str, suggestion: str | None
) -> None:
    err = refusal(text, vocabulary=VOCABULARY)
    assert words in err.message
    assert err.suggestion == suggestion


def test_tags_given_to_a_contact_may_be_new_even_with_a_vocabulary() -> None:
    command = read("contacts tag +919812345678 brand-new", vocabulary=VOCABULARY)
    assert command == ContactTag(PHONE, ("brand-new",))


@pytest.mark.parametrize(
    "text",
    [
        "contacts add +91 98123 4567",
        "contacts add +91 98123 45678 99999",
        "contacts add 98123 45678 11",
        "broadcast +919812345678 tags:vip",
        "broadcast promo tags:+919812345678",
        "broadcast promo tags:vip at +91 98123 45678",
        "broadcast promo 919812345678",
        "help +919812345678",
        "contacts add +919812345678 +919812345679",
        "brodcast +919812345678",
    ],
)
def test_a_refusal_never_shows_a_whole_phone_number(text: str) -> None:
    rendered = refusal(text).render().replace("+919812345678 ", "")  # the example in hints
    digits = re.sub(r"\D", "", rendered.replace("+919812345678", ""))
    assert "98123456" not in digits
    assert "•" in rendered or "98123" not in rendered
