"""Herald's command language: one parser for every chat face, and a natural-phrasing reader.

    parse(text, now=, tz=, vocabulary=)               the formal language → Command
    interpret(text, now=, tz=, vocabulary=, previous=) mentions/DMs → Command | Question
    read_time(phrase, now=, tz=)                       "tomorrow 9am IST" → Moment (aware UTC + zone)
    formal(command)                                    a change → the formal command that does it
    messages.HELP / messages.USAGE                     every sentence a person reads

Pure: no clock, database, network or Slack. Every refusal is a UsageError
(``engine.errors``) that renders what was wrong, a "did you mean", and the usage line.
"""

from __future__ import annotations

from bot.grammar.commands import (
    BroadcastAction,
    BroadcastCreate,
    BroadcastFind,
    BroadcastList,
    Cancel,
    Chitchat,
    Command,
    Confirm,
    ContactAdd,
    ContactCount,
    ContactFind,
    ContactList,
    ContactOptOut,
    ContactShow,
    ContactTag,
    ContactUntag,
    EnrollmentList,
    Help,
    PendingBroadcast,
    PendingChange,
    Question,
    Schedule,
    ScheduleKind,
    SequenceAction,
    SequenceEnroll,
    SequenceList,
    Stats,
    TemplateList,
    TemplateSync,
    Window,
)
from bot.grammar.formal import formal
from bot.grammar.names import Vocabulary
from bot.grammar.natural import interpret
from bot.grammar.normalize import normalize
from bot.grammar.parser import parse
from bot.grammar.times import Moment, read_time

__all__ = [
    "BroadcastAction",
    "BroadcastCreate",
    "BroadcastFind",
    "BroadcastList",
    "Cancel",
    "Chitchat",
    "Command",
    "Confirm",
    "ContactAdd",
    "ContactCount",
    "ContactFind",
    "ContactList",
    "ContactOptOut",
    "ContactShow",
    "ContactTag",
    "ContactUntag",
    "EnrollmentList",
    "Help",
    "Moment",
    "PendingBroadcast",
    "PendingChange",
    "Question",
    "Schedule",
    "ScheduleKind",
    "SequenceAction",
    "SequenceEnroll",
    "SequenceList",
    "Stats",
    "TemplateList",
    "TemplateSync",
    "Vocabulary",
    "Window",
    "formal",
    "interpret",
    "normalize",
    "parse",
    "read_time",
]
