"""``parse``: the one reader of the command language, shared by every chat face.

    broadcast …   sequence …   contacts …   templates list|sync   stats [period]   help [topic]

The leading ``/`` is optional (the shell and WhatsApp have none; Slack passes
``"broadcast " + text``). Command words have a few forgiving aliases
(``contact``, ``sequences``, ``template``). A command word on its own shows its
help, except ``stats``, which means ``stats today``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.grammar import messages
from bot.grammar.broadcasts import HELP_WORDS, broadcast
from bot.grammar.commands import Command, Help, Stats, TemplateList, TemplateSync
from bot.grammar.context import Context
from bot.grammar.names import NO_VOCABULARY, Vocabulary
from bot.grammar.normalize import normalize
from bot.grammar.people import contacts, sequence
from bot.grammar.periods import PERIODS, read_period
from bot.grammar.tokens import Args, Token, split, tokenize
from engine.errors import UsageError
from engine.schedule import require_aware
from engine.suggest import closest

MAX_TEXT = 2000
COMMANDS = {
    "broadcast": "broadcast",
    "broadcasts": "broadcast",
    "sequence": "sequence",
    "sequences": "sequence",
    "contacts": "contacts",
    "contact": "contacts",
    "templates": "templates",
    "template": "templates",
    "stats": "stats",
    "stat": "stats",
    "help": "help",
}
_HELP_TOPICS = {
    **{word: name for word, name in COMMANDS.items() if name in messages.HELP},
    "times": "times",
    "time": "times",
    "schedule": "times",
}


def parse(text: str, *, now: datetime, tz: str, vocabulary: Vocabulary | None = None) -> Command:
    """The command ``text`` stands for, read at ``now`` in timezone ``tz`` (an IANA name).

    ``text`` is the whole command including its command word. ``now`` must be
    aware. ``vocabulary`` (known templates, tags, sequences) makes unknown names
    errors with a "did you mean"; None accepts names as written.

    Raises UsageError for any text that is not a command (what was wrong, the
    usage line, and the closest command, subcommand or name); ValueError for a
    naive ``now``; Invalid for an unknown ``tz`` when a time has to be read.
    """
    require_aware(now)
    ctx = Context(now=now, tz=tz, vocabulary=vocabulary or NO_VOCABULARY)
    tokens = words_of(text)
    if not tokens:
        return Help()
    head = tokens[0]
    command = COMMANDS.get(head.lower) if head.key is None and not head.quoted else None
    if command is None:
        written = head.text if head.key is None else f"{head.key}:"
        guess = closest(written.lower(), COMMANDS) if head.key is None else None
        raise UsageError(
            messages.unknown_command(written),
            usage=messages.USAGE["help"],
            suggestion=COMMANDS[guess] if guess else None,
        )
    args = split(tokens[1:], usage=messages.USAGE.get(command, ""))
    return _HANDLERS[command](args, ctx)


def words_of(text: str) -> list[Token]:
    """The normalised words of ``text`` with a leading ``/`` dropped.

    Raises UsageError for text over MAX_TEXT characters or with an unclosed quote.
    """
    clean = normalize(text)
    if len(clean) > MAX_TEXT:
        raise UsageError(messages.too_long(MAX_TEXT), usage=messages.USAGE["help"])
    return tokenize(clean.removeprefix("/").lstrip(), usage=messages.USAGE["help"])


def _templates(args: Args, ctx: Context) -> Command:
    usage = messages.USAGE["templates"]
    if not args.words:
        args.only((), form="templates", usage=usage)
        return Help("templates")
    head = args.words[0].lower
    if head in HELP_WORDS or args.words[-1].lower in HELP_WORDS:
        return Help("templates")
    if head not in ("list", "sync"):
        guess = closest(head, ("list", "sync"))
        raise UsageError(
            messages.unknown_subcommand("templates", args.words[0].text),
            usage=usage,
            suggestion=f"templates {guess}" if guess else None,
        )
    form = f"templates {head}"
    args.only((), form=form, usage=messages.USAGE[form])
    if len(args.words) > 1:
        raise UsageError(messages.unexpected_words(form, args.text(1)), usage=messages.USAGE[form])
    return TemplateList() if head == "list" else TemplateSync()


def _stats(args: Args, ctx: Context) -> Command:
    usage = messages.USAGE["stats"]
    args.only((), form="stats", usage=usage)
    if args.words and args.words[0].lower in HELP_WORDS:
        return Help("stats")
    written = args.text()
    window = read_period(written.lower() or "today", now=ctx.now, tz=ctx.tz)
    if window is None:
        key = "".join(written.lower().split())
        guess = closest(key, PERIODS)
        raise UsageError(
            messages.unknown_period(written),
            usage=usage,
            suggestion=f"stats {guess}" if guess else None,
            field="period",
        )
    return Stats(window)


def _help(args: Args, ctx: Context) -> Command:
    usage = messages.USAGE["help"]
    args.only((), form="help", usage=usage)
    if not args.words:
        return Help()
    word = args.words[0].lower.removeprefix("/")
    topic = _HELP_TOPICS.get(word)
    if topic is None:
        guess = closest(word, _HELP_TOPICS)
        raise UsageError(
            messages.unknown_help_topic(args.words[0].text),
            usage=usage,
            suggestion=f"help {_HELP_TOPICS[guess]}" if guess else None,
            field="topic",
        )
    return Help(topic)


_HANDLERS: dict[str, Callable[[Args, Context], Command]] = {
    "broadcast": broadcast,
    "sequence": sequence,
    "contacts": contacts,
    "templates": _templates,
    "stats": _stats,
    "help": _help,
}
