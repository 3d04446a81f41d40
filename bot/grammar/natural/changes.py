"""Acting on a broadcast or a sequence named in words, and asking for the one piece missing.

    pause the diwali promo / cancel the diwali one   → BroadcastFind(action=…) (the face finds it,
                                                       then asks for a yes)
    resume the onboarding sequence / stop onboarding → SequenceAction
    stop the diwali promo                            → a Question: pause it, or cancel it?
    pause the broadcast / cancel a campaign          → a Question: which one? (the rest kept)
    pause a sequence                                 → a Question: which sequence?

Each reader returns None when the sentence is not its kind.
"""

from __future__ import annotations

import re
from typing import cast

from bot.grammar import messages
from bot.grammar.commands import (
    BroadcastAction,
    BroadcastFind,
    ChangeVerb,
    Command,
    PendingChange,
    Question,
)
from bot.grammar.context import Context
from bot.grammar.natural.nouns import noun_of
from bot.grammar.natural.targets import PRONOUNS, named_thing
from engine.errors import UsageError

_VERB = re.compile(
    r"(?P<verb>pause|halt|hold|cancel|abort|kill|stop|resume|unpause|restart|continue|activate|show|open)"
    r"\s+(?P<rest>.+)"
)
_VERBS: dict[str, str] = {
    "pause": "pause",
    "halt": "pause",
    "hold": "pause",
    "cancel": "cancel",
    "abort": "cancel",
    "kill": "cancel",
    "resume": "resume",
    "unpause": "resume",
    "restart": "resume",
    "continue": "resume",
    "activate": "activate",
    "show": "show",
    "open": "show",
}
_FILLER = frozenset({"the", "a", "an", "our", "my", "that", "this", "one", "please", "up", "sending", "me"})
_ALONE = frozenset(
    {"pause", "resume", "unpause", "pause it", "resume it", "halt", "pause that", "resume that"}
)
_ALL = frozenset({"all", "every", "everything", "each", "all the"})
_FOR_NOW = re.compile(r"\s+(?:for now|for the moment|for a bit|for a while|please|asap|right now|now)$")
_MOVE = re.compile(
    r"(?:push|move|reschedule|postpone|delay|bring forward|shift)\s+(?:the\s+)?(?P<name>.+?)"
    r"\s+(?:to|until|till|for|by)\s+.+"
)
_ON_OFF = re.compile(
    r"(?:turn|switch)\s+(?:the\s+)?(?P<name>.+?)\s+(?:back\s+)?(?P<state>on|off)"
    r"|(?:turn|switch)\s+(?P<state2>on|off)\s+(?:the\s+)?(?P<name2>.+)"
)


def by_name(said: str, clean: str, ctx: Context) -> Command | Question | None:  # noqa: PLR0911
    """Reads "pause the diwali promo", "cancel the diwali one", "stop the onboarding sequence"."""
    if said in _ALONE:  # "resume", "pause it": which one?
        return _which(said.split(maxsplit=1)[0], "broadcast")
    match = _VERB.fullmatch(said)
    if match is None:
        return None
    verb, rest = match.group("verb"), _FOR_NOW.sub("", match.group("rest").strip(" ?!."))
    words = [w for w in rest.split() if w not in _FILLER]
    if words and words[0] in _ALL:  # "pause every sequence": one at a time, which?
        every: str = next((k for k in map(noun_of, words) if k is not None), "broadcast")
        return _which(verb, every)
    if not words or rest in PRONOUNS:
        return None
    kind = noun_of(words[0]) if len(words) == 1 else None
    if kind is not None:
        return _which(verb, kind)
    said_name = " ".join(words)
    if verb == "stop":
        return _stop(said_name, ctx)
    return named_thing(said_name, ctx, action=_VERBS[verb])


def move(said: str, clean: str, ctx: Context) -> Command | None:
    """ "push the autumn sale to friday": chat cannot move a broadcast; said so, with what can."""
    match = _MOVE.fullmatch(said)
    if match is None or match.group("name") in PRONOUNS:
        return None
    raise UsageError(messages.cannot_move(match.group("name")), usage=messages.USAGE["broadcast cancel"])


def on_off(said: str, clean: str, ctx: Context) -> Command | Question | None:
    """Reads "turn the onboarding sequence back on", "switch off onboarding": sequences only."""
    match = _ON_OFF.fullmatch(said)
    if match is None:
        return None
    name = (match.group("name") or match.group("name2")).removesuffix(" back")
    on = (match.group("state") or match.group("state2")) == "on"
    for kind in (" sequence", " drip", " flow", " journey"):
        name = name.removesuffix(kind)
    return named_thing(f"{name} sequence", ctx, action="activate" if on else "pause")


def _which(verb: str, kind: str) -> Question | None:
    """ "pause the broadcast": which one? The verb is kept for the answer."""
    action = "pause" if verb == "stop" else _VERBS[verb]
    if kind == "broadcast":
        pending = PendingChange(cast(ChangeVerb, action), "broadcast", target="broadcast")
        return Question(messages.ask_which_broadcast(action), pending=pending)
    if kind == "sequence":
        pending = PendingChange(cast(ChangeVerb, action), "sequence", target="sequence")
        return Question(messages.ask_which_sequence(action), pending=pending)
    return None


def _stop(rest: str, ctx: Context) -> Command | Question | None:
    """ "stop" a broadcast could mean pause or cancel: ask. A sequence can only be paused."""
    paused = named_thing(rest, ctx, action="pause")
    if isinstance(paused, BroadcastAction):
        number = paused.broadcast_id
        return Question(
            messages.ask_pause_or_cancel(number),
            choices=(BroadcastAction("pause", number), BroadcastAction("cancel", number)),
        )
    if isinstance(paused, BroadcastFind):
        name = paused.template_or_name
        return Question(
            messages.ask_pause_or_cancel_named(name),
            choices=(
                BroadcastFind(name, action="pause"),
                BroadcastFind(name, action="cancel"),
            ),
        )
    return paused
