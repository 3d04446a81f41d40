"""``interpret``: natural phrasings from mentions, DMs, the shell and admin WhatsApp, read into
the same Commands.

Deterministic and rule-based. In order:

1. an answer to the Question Herald just asked (``previous``), if it reads as one;
2. yes / no → Confirm / Cancel;
3. the formal command language (``broadcast promo tags:vip at 9am``) → ``parse``;
4. a follow-up edit of the broadcast just previewed ("make it 10am instead");
5. the phrasings in ``RULES`` (lists, lookups, counts, stats, contacts, enrollments,
   changes by name, sends, help), after misspelt command words are put right;
6. otherwise the formal parser's refusal, or "I didn't understand" with examples.

A change read in steps 1 (a missing piece filled in) and 5 is not returned as a
command: it is a Question showing the change, done only on a yes
(``confirm.settled``). A broadcast is previewed and confirmed on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.grammar import messages
from bot.grammar.commands import Command, Help, Question
from bot.grammar.context import Context
from bot.grammar.names import NO_VOCABULARY, Vocabulary
from bot.grammar.natural import changes, edits, lookups, mentions, people, reads, replies, sends
from bot.grammar.natural.confirm import settled
from bot.grammar.natural.words import corrected, without_emoji
from bot.grammar.normalize import normalize
from bot.grammar.parser import COMMANDS, MAX_TEXT, parse
from bot.grammar.phrasing import tidy
from engine.errors import UsageError
from engine.schedule import require_aware
from engine.suggest import closest

Rule = Callable[[str, str, Context], Command | Question | None]
MAX_WORDS_TEXT = 300  # characters of plain words; longer text is read only as the formal language

RULES: tuple[Rule, ...] = (
    lookups.chitchat,
    lookups.help_asked,
    reads.bare,
    lookups.listing,
    reads.listing,
    lookups.by_id,
    reads.status,
    reads.enrollments,
    reads.how_many,
    reads.who,
    lookups.rate,
    lookups.stats_for,
    lookups.sequence_action,
    changes.on_off,
    lookups.how_did,
    people.enroll,
    people.add_contact,
    people.opt_out,
    people.tag,
    people.unsupported,
    changes.move,
    changes.by_name,
    sends.send,
    sends.time_only,
    mentions.mentioned,
)


def interpret(
    text: str,
    *,
    now: datetime,
    tz: str,
    vocabulary: Vocabulary | None = None,
    previous: Command | Question | None = None,
) -> Command | Question:
    """What a person meant by ``text`` in a mention or DM, read at ``now`` in ``tz``.

    ``previous`` is what this conversation last produced: the Question Herald
    asked (so "2" or "vip and gold" can answer it) or the command it previewed
    (so "make it 10am instead" can change it). Returns a Command, or a Question
    when the text is ambiguous, incomplete, or a change to be confirmed.

    Raises UsageError when the text does not read (with the closest command or
    name); ValueError for a naive ``now``.
    """
    require_aware(now)
    ctx = Context(now=now, tz=tz, vocabulary=vocabulary or NO_VOCABULARY)
    clean = normalize(text)
    if len(clean) > MAX_TEXT:
        raise UsageError(messages.too_long(MAX_TEXT), usage=messages.USAGE["help"])
    clean = tidy(without_emoji(clean))
    said = clean.lower()
    if not said:
        return Help()
    if isinstance(previous, Question):
        answered = replies.answer(previous, said, ctx)
        if answered is not None:
            return answered
    reply = replies.yes_or_no(said)
    if reply is not None:
        return reply
    first = said.split()[0].lstrip("/")
    refusal: UsageError | None = None
    if first in COMMANDS and not reads.bare(said, clean, ctx):
        try:
            return parse(clean, now=now, tz=tz, vocabulary=vocabulary)
        except UsageError as exc:
            refusal = exc
    if len(clean) > MAX_WORDS_TEXT:  # nobody says this much in one request; bounds the reading's time
        raise refusal or UsageError(messages.too_long_for_words(), usage=messages.USAGE["help"])
    edited = edits.edit(previous, said, clean, ctx)
    if edited is not None:
        return edited
    fixed = tidy(corrected(clean, ctx))
    for rule in RULES:
        found = rule(fixed.lower(), fixed, ctx)
        if found is not None:
            return settled(found)
    if refusal is not None:
        raise refusal
    guess = closest(first, COMMANDS, cutoff=0.75)
    raise UsageError(
        messages.not_understood(),
        usage=messages.USAGE["help"],
        suggestion=COMMANDS[guess] if guess else None,
    )
