"""Natural phrasings from mentions and DMs: the same Commands, Questions, replies and edits."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.grammar import (
    BroadcastAction,
    BroadcastCreate,
    BroadcastFind,
    BroadcastList,
    Cancel,
    Command,
    Confirm,
    ContactAdd,
    ContactCount,
    ContactOptOut,
    ContactTag,
    ContactUntag,
    Help,
    PendingBroadcast,
    Question,
    Schedule,
    ScheduleKind,
    SequenceAction,
    SequenceEnroll,
    SequenceList,
    Stats,
    TemplateList,
    TemplateSync,
    Vocabulary,
)

from .support import KOLKATA, NOW, PHONE, VOCABULARY, local, refusal, said

NOT_SCHEDULED = Schedule(ScheduleKind.NOW, KOLKATA, explicit=False)


def broadcast(text: str, **kwargs: object) -> BroadcastCreate:
    command = said(text, **kwargs)
    assert isinstance(command, BroadcastCreate), command
    return command


def question(text: str, **kwargs: object) -> Question:
    asked = said(text, **kwargs)
    assert isinstance(asked, Question), asked
    return asked


def meant(text: str, **kwargs: object) -> Command | Question:
    """What ``text`` reads as: a change read from words is shown back for a yes (a Question with
    ``confirm`` and that change as its only choice); this unwraps it, so tables state the change.
    """
    found = said(text, **kwargs)
    if isinstance(found, Question) and found.confirm:
        assert len(found.choices) == 1, found
        return found.choices[0]
    return found


# --- sends ------------------------------------------------------------------------------


def test_send_to_tags_at_a_time_is_a_scheduled_broadcast() -> None:
    command = broadcast("send promo to vip and gold tomorrow at 9")
    assert (command.template, command.tags) == ("promo", ("vip", "gold"))
    assert command.schedule.kind is ScheduleKind.AT
    assert local(command.schedule.at) == "Tue 2026-12-01 09:00"
    assert command.schedule.written == "tomorrow at 9"


@pytest.mark.parametrize(
    ("text", "template", "tags", "when"),
    [
        ("send promo to vip", "promo", ("vip",), None),
        ("Send promo to VIP now", "promo", ("vip",), "now"),
        ("send promo to vip right now", "promo", ("vip",), "now"),
        (
            "send promo to vip, gold & new at 6pm",
            "promo",
            ("vip", "gold", "new"),
            "Mon 2026-11-30 18:00",
        ),
        ("send promo tomorrow 6pm to vip", "promo", ("vip",), "Tue 2026-12-01 18:00"),
        ("broadcast promo to vip at 6pm", "promo", ("vip",), "Mon 2026-11-30 18:00"),
        (
            "blast promo to everyone tagged vip in 2 hours",
            "promo",
            ("vip",),
            "Mon 2026-11-30 12:14",
        ),
        ("schedule promo for vip for monday 9am", "promo", ("vip",), "Mon 2026-12-07 09:00"),
        ("send the promo template to all vip customers", "promo", ("vip",), None),
        ("draft promo for vip", "promo", ("vip",), "draft"),
        ("send promo to vip as a draft", "promo", ("vip",), "draft"),
        (
            "please send the promo template to all vip customers on monday at 9am, thanks",
            "promo",
            ("vip",),
            "Mon 2026-12-07 09:00",
        ),
        ("<@U0HERALD> send promo to vip tomorrow 6pm", "promo", ("vip",), "Tue 2026-12-01 18:00"),
        ("hey herald, send promo to gold at noon!", "promo", ("gold",), "Mon 2026-11-30 12:00"),
        ("send promo tags:vip,gold at 6pm", "promo", ("vip", "gold"), "Mon 2026-11-30 18:00"),
        ("send diwali promo to vip", "diwali_promo", ("vip",), None),
        ("send the welcome offer template to new now", "welcome_offer", ("new",), "now"),
    ],
)
def test_ways_of_asking_for_a_broadcast(
    text: str, template: str, tags: tuple[str, ...], when: str | None
) -> None:
    command = broadcast(text)
    assert (command.template, command.tags) == (template, tags)
    if when is None:
        assert command.schedule == NOT_SCHEDULED
    elif when in ("now", "draft"):
        assert command.schedule.kind == when
    else:
        assert local(command.schedule.at) == when


def test_a_name_and_language_can_ride_along_as_options() -> None:
    command = broadcast('send promo to vip at 6pm name:"Diwali promo" lang:en_US')
    assert (command.name, command.language) == ("Diwali promo", "en_US")


def test_send_without_an_audience_asks_which_tags() -> None:
    asked = question("send promo", vocabulary=VOCABULARY)
    assert asked.text == (
        "Who should get `promo`? Tell me the tags, like `diwali-2026`, `gold`, `new`, `vip`."
    )
    assert asked.pending == PendingBroadcast(template="promo", schedule=NOT_SCHEDULED)
    assert asked.choices == ()


def test_send_to_everyone_still_asks_for_tags() -> None:
    assert question("send promo to everyone").pending is not None


def test_the_answer_to_which_tags_completes_the_broadcast() -> None:
    asked = question("send promo tomorrow 6pm")
    for answer, tags in [
        ("vip and gold", ("vip", "gold")),
        ("to vip", ("vip",)),
        ("tags:vip", ("vip",)),
    ]:
        command = said(answer, previous=asked)
        assert isinstance(command, BroadcastCreate)
        assert command.tags == tags
        assert local(command.schedule.at) == "Tue 2026-12-01 18:00"


def test_schedule_without_a_time_asks_when() -> None:
    asked = question("schedule promo for vip")
    assert asked.text == "When should `promo` go out? Say a time like `tomorrow 9am`, or `now`."
    command = said("tomorrow 9am", previous=asked)
    assert isinstance(command, BroadcastCreate)
    assert local(command.schedule.at) == "Tue 2026-12-01 09:00"
    assert said("now", previous=asked) == BroadcastCreate(
        "promo", ("vip",), Schedule(ScheduleKind.NOW, KOLKATA)
    )


def test_an_unrelated_reply_to_a_question_is_read_on_its_own() -> None:
    asked = question("send promo")
    assert said("list templates", previous=asked) == TemplateList()
    assert said("cancel", previous=asked) == Cancel()
    assert isinstance(said("send welcome_offer to new", previous=asked), BroadcastCreate)


def test_a_template_several_known_ones_start_with_is_a_question_with_choices() -> None:
    vocabulary = Vocabulary.of(templates=["promo_autumn", "promo_winter"], tags=["vip"])
    asked = question("send promo to vip at 6pm", vocabulary=vocabulary)
    assert asked.text == "Which template did you mean by `promo`?"
    assert [c.template for c in asked.choices if isinstance(c, BroadcastCreate)] == [
        "promo_autumn",
        "promo_winter",
    ]
    for answer, template in [
        ("2", "promo_winter"),
        ("#1", "promo_autumn"),
        ("option 2", "promo_winter"),
        ("the first one", "promo_autumn"),
        ("the last one", "promo_winter"),
        ("winter", "promo_winter"),
        ("promo_autumn", "promo_autumn"),
    ]:
        picked = said(answer, previous=asked, vocabulary=vocabulary)
        assert isinstance(picked, BroadcastCreate)
        assert picked.template == template
    again = said("yes", previous=asked, vocabulary=vocabulary)
    assert isinstance(again, Question)
    assert again.text == "Which one? Answer with a number from 1 to 2, or `cancel`."
    assert said("no", previous=asked, vocabulary=vocabulary) == Cancel()
    assert "from 1 to 2" in refusal("5", natural=True, previous=asked).message


def test_a_single_near_template_is_offered_and_yes_takes_it() -> None:
    asked = question("send promo_autum to vip", vocabulary=VOCABULARY)
    assert len(asked.choices) == 1
    picked = said("yes", previous=asked, vocabulary=VOCABULARY)
    assert isinstance(picked, BroadcastCreate)
    assert picked.template == "promo_autumn"


@pytest.mark.parametrize(
    ("text", "words", "suggestion"),
    [
        ("send promo to vpi", "No contact has the tag `vpi`.", "tags:vip"),
        ("send zzzz to vip", "There is no template `zzzz`.", None),
        ("send promo to vip at 9am", "9am today has passed", "tomorrow 9am"),
        ("send promo to vip at blorp", "I can't read `blorp` as a time.", None),
    ],
)
def test_wrong_names_and_times_in_a_send_are_refused(text: str, words: str, suggestion: str | None) -> None:
    err = refusal(text, natural=True, vocabulary=VOCABULARY)
    assert words in err.message
    assert err.suggestion == suggestion


# --- lookups ----------------------------------------------------------------------------


def test_how_did_yesterdays_promo_do_finds_it_by_name_and_day() -> None:
    command = said("how did yesterday's promo do?")
    assert isinstance(command, BroadcastFind)
    assert command.template_or_name == "promo"
    assert command.window is not None
    assert command.window.label == "yesterday"
    assert local(command.window.start) == "Sun 2026-11-29 00:00"
    assert local(command.window.end) == "Mon 2026-11-30 00:00"


@pytest.mark.parametrize(
    ("text", "name", "label"),
    [
        ("How’s the promo doing today?", "promo", "today"),
        ("how did the diwali promo go on friday", "diwali promo", "2026-11-27"),
        ("how did last monday's promo do", "promo", "2026-11-30"),
        ("how was promo", "promo", None),
        ("stats for promo", "promo", None),
        ("promo stats", "promo", None),
        ("show me promo_autumn's numbers", "promo_autumn", None),
        ("how's it going with promo?", "promo", None),
    ],
)
def test_broadcast_lookups(text: str, name: str, label: str | None) -> None:
    command = said(text)
    assert isinstance(command, BroadcastFind)
    assert command.template_or_name == name
    assert (command.window.label if command.window else None) == label


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("how are we doing?", "today"),
        ("how did we do yesterday", "yesterday"),
        ("how are things this week", "this week"),
        ("how were things over the last 7 days", "7d"),
        ("stats for yesterday", "yesterday"),
        ("how did everything go today", "today"),
    ],
)
def test_overall_questions_are_stats(text: str, label: str) -> None:
    command = said(text)
    assert isinstance(command, Stats)
    assert command.window.label == label


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("how did broadcast 12 do?", BroadcastAction("stats", 12)),
        ("how did #12 do", BroadcastAction("stats", 12)),
        ("cancel broadcast 12", BroadcastAction("cancel", 12)),
        ("pause #12", BroadcastAction("pause", 12)),
        ("resume broadcast #12", BroadcastAction("resume", 12)),
        ("send broadcast 12", BroadcastAction("send", 12)),
        ("show 12", BroadcastAction("show", 12)),
        ("list broadcasts", BroadcastList()),
        ("show me all the campaigns", BroadcastList()),
        ("what's scheduled?", BroadcastList("scheduled")),
        ("show me the templates", TemplateList()),
        ("list sequences", SequenceList()),
        ("sync templates", TemplateSync()),
        ("please refresh the templates", TemplateSync()),
        ("pause the onboarding sequence", SequenceAction("pause", "onboarding")),
        ("start drip onboarding", SequenceAction("activate", "onboarding")),
        ("show onboarding sequence", SequenceAction("show", "onboarding")),
        ("how many vip contacts are there?", ContactCount(("vip",))),
        ("how many contacts are tagged vip or gold", ContactCount(("vip", "gold"))),
        ("how many people have the gold tag", ContactCount(("gold",))),
        ("help", Help()),
        ("?", Help()),
        ("what can you do?", Help()),
        ("how do I schedule a broadcast?", Help("broadcast")),
        ("how do i enroll someone", Help("sequence")),
        ("help me with templates", Help("templates")),
        ("how to send a broadcast", Help("broadcast")),
        ("", Help()),
    ],
)
def test_lookups_lists_actions_and_help(text: str, command: Command) -> None:
    assert meant(text) == command


def test_stop_asks_whether_to_pause_or_cancel() -> None:
    asked = question("stop broadcast 12")
    assert asked.text == "Should I 1) pause broadcast 12 (it can resume later), or 2) cancel it?"
    assert said("pause it", previous=asked) == BroadcastAction("pause", 12)
    assert said("cancel it for good", previous=asked) == BroadcastAction("cancel", 12)
    assert said("2", previous=asked) == BroadcastAction("cancel", 12)
    assert said("never mind", previous=asked) == Cancel()


# --- contacts and enrollments ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("enroll +91 98123 45678 in onboarding", SequenceEnroll("onboarding", PHONE)),
        ("enrol +919812345678 into the onboarding sequence", SequenceEnroll("onboarding", PHONE)),
        ("add +919812345678 to the onboarding drip", SequenceEnroll("onboarding", PHONE)),
        ("add +919812345678 to the vip tag", ContactTag(PHONE, ("vip",))),
        ("add contact +919812345678", ContactAdd(PHONE)),
        (
            "add contact +91 98123 45678 named Asha Rao tagged vip, gold",
            ContactAdd(PHONE, name="Asha Rao", tags=("vip", "gold")),
        ),
        ('add a new contact +919812345678 name:"Asha"', ContactAdd(PHONE, name="Asha")),
        ("tag +919812345678 as vip", ContactTag(PHONE, ("vip",))),
        ("tag +91 98123 45678 vip and gold", ContactTag(PHONE, ("vip", "gold"))),
        ("untag +919812345678 gold", ContactUntag(PHONE, ("gold",))),
        ("remove vip from +91 98123 45678", ContactUntag(PHONE, ("vip",))),
        ("remove the tag vip from +919812345678", ContactUntag(PHONE, ("vip",))),
        ("opt out +919812345678", ContactOptOut(PHONE)),
        ("unsubscribe +91 98123 45678", ContactOptOut(PHONE)),
        ("contacts optout +919812345678", ContactOptOut(PHONE)),  # formal works too
    ],
)
def test_contacts_and_enrollments_in_words(text: str, command: Command) -> None:
    assert meant(text) == command


def test_add_to_a_name_that_could_be_a_sequence_or_a_tag_asks() -> None:
    asked = question("add +919812345678 to vip")
    assert asked.text == "Should I 1) enroll them in the sequence `vip`, or 2) tag them `vip`?"
    assert said("the sequence", previous=asked) == SequenceEnroll("vip", PHONE)
    assert said("tag them", previous=asked) == ContactTag(PHONE, ("vip",))
    assert said("1", previous=asked) == SequenceEnroll("vip", PHONE)


def test_the_vocabulary_settles_sequence_or_tag() -> None:
    assert meant("add +919812345678 to vip", vocabulary=VOCABULARY) == ContactTag(PHONE, ("vip",))
    assert meant("add +919812345678 to onboarding", vocabulary=VOCABULARY) == SequenceEnroll(
        "onboarding", PHONE
    )
    asked = question("add +919812345678 to onbording", vocabulary=VOCABULARY)
    assert asked.choices == (SequenceEnroll("onboarding", PHONE), ContactTag(PHONE, ("onbording",)))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("enroll +91 12 in onboarding", "is too short"),
        ("enroll +919812345678 in onbording", "There is no sequence `onbording`."),
        ("add contact +919812345678 Asha", "`Asha` is not part of a phone number"),
        ("opt out 9812345678", "has no country code"),
    ],
)
def test_contact_refusals_in_words(text: str, words: str) -> None:
    err = refusal(text, natural=True, vocabulary=VOCABULARY)
    assert words in err.message
    assert "9812345678" not in err.render().replace("+919812345678", "")


# --- yes, no, and edits -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "Yes!",
        "y",
        "yep",
        "ok",
        "confirm",
        "confirmed",
        "go ahead",
        "Yes, send it!",
        "do it",
        "👍",
        ":+1:",
        "yes please",
        "lgtm",
    ],
)
def test_yes_is_confirm(text: str) -> None:
    assert said(text) == Confirm()


@pytest.mark.parametrize(
    "text",
    ["no", "No.", "nope", "cancel", "cancel it", "stop", "never mind", "nevermind", "👎", ":x:"],
)
def test_no_is_cancel(text: str) -> None:
    assert said(text) == Cancel()


@pytest.fixture
def previewed() -> BroadcastCreate:
    return broadcast("send promo to vip and gold tomorrow at 9")


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("make it 10am instead", "Tue 2026-12-01 10:00"),  # same day, new time
        ("actually, make it 6pm", "Tue 2026-12-01 18:00"),
        ("at 10 instead", "Tue 2026-12-01 10:00"),
        ("at 11am", "Tue 2026-12-01 11:00"),
        ("make it friday instead", "Fri 2026-12-04 09:00"),  # new day, same time
        ("move it to wednesday", "Wed 2026-12-02 09:00"),
        ("reschedule it for dec 5 at 7pm", "Sat 2026-12-05 19:00"),
        ("change it to in 2 hours", "Mon 2026-11-30 12:14"),
        ("make it midnight", "Wed 2026-12-02 00:00"),  # the end of the day it was on
    ],
)
def test_make_it_changes_the_time_of_the_previewed_broadcast(
    previewed: BroadcastCreate, text: str, when: str
) -> None:
    edited = broadcast(text, previous=previewed)
    assert local(edited.schedule.at) == when
    assert (edited.template, edited.tags) == (previewed.template, previewed.tags)


def test_a_bare_time_edit_of_a_broadcast_sent_now_means_today(previewed: BroadcastCreate) -> None:
    now_preview = broadcast("send promo to vip now")
    assert local(broadcast("make it 6pm instead", previous=now_preview).schedule.at) == (
        "Mon 2026-11-30 18:00"
    )


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("send it now", "schedule", Schedule(ScheduleKind.NOW, KOLKATA)),
        ("make it a draft", "schedule", Schedule(ScheduleKind.DRAFT, KOLKATA)),
        ("send it to gold instead", "tags", ("gold",)),
        ("make it vip only", "tags", ("vip",)),
        ("change it to new and gold", "tags", ("new", "gold")),
        ("use promo_winter instead", "template", "promo_winter"),
        ("make it the welcome_offer template", "template", "welcome_offer"),
        ("make it promo_autumn", "template", "promo_autumn"),
        ('call it "Diwali Promo"', "name", "Diwali Promo"),
        ("name it Diwali blast", "name", "Diwali blast"),
    ],
)
def test_follow_ups_change_one_part(previewed: BroadcastCreate, text: str, field: str, value: object) -> None:
    edited = broadcast(text, previous=previewed, vocabulary=VOCABULARY)
    assert getattr(edited, field) == value


@pytest.mark.parametrize(
    ("text", "previous", "words"),
    [
        ("make it 10am instead", None, "There is no broadcast to change yet"),
        ("change it to 6pm", Confirm(), "There is no broadcast to change yet"),
        ("make it 7am instead", "preview", "7am today has passed (it is 08:00 Asia/Kolkata)."),
        ("make it sparkly", "preview", "I can change the time, the tags, the template or the name"),
        ("send it to vpi instead", "preview", "No contact has the tag `vpi`."),
        ("use promo_wintr instead", "preview", "There is no template `promo_wintr`."),
    ],
)
def test_edits_that_cannot_apply_are_refused(
    previewed: BroadcastCreate, text: str, previous: object, words: str
) -> None:
    before = previewed if previous == "preview" else previous
    now = datetime(2026, 12, 1, 8, 0, tzinfo=ZoneInfo(KOLKATA)) if "7am" in text else NOW
    err = refusal(text, natural=True, previous=before, vocabulary=VOCABULARY, now=now)
    assert words in err.message


# --- falling back -----------------------------------------------------------------------


def test_formal_commands_pass_through_to_the_parser() -> None:
    command = said('broadcast promo tags:vip at 6pm name:"Diwali promo"')
    assert isinstance(command, BroadcastCreate)
    assert command.name == "Diwali promo"


def test_a_formal_command_that_fails_keeps_its_own_refusal() -> None:
    err = refusal("broadcast show abc", natural=True)
    assert "`abc` is not a broadcast id" in err.message


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [("blorp blorp", None), ("hlep xyzzy", "help"), ("what is the weather", None)],
)
def test_anything_else_is_not_understood_with_examples(text: str, suggestion: str | None) -> None:
    err = refusal(text, natural=True)
    assert err.message.startswith("I didn't understand that.")
    assert "`broadcast promo tags:vip at 9am`" in err.message
    assert err.suggestion == suggestion
