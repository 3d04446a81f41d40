"""Splitting a command into words and ``key:value`` options.

- Words are separated by spaces; a ``"`` or ``'`` at the start of a word or right
  after ``key:`` opens a quoted part that runs to the same quote, spaces included.
  Elsewhere a quote is an ordinary character (``yesterday's``).
- ``key:value`` (or ``key=value``) is an option when ``key`` is letters and ``_``.
  ``tags: vip`` and ``name: "Asha"`` take the next word as the value; ``tags:vip, gold``
  and ``tags:vip ,gold`` continue a list across the space.
- Keys have aliases (``tag:`` is ``tags:``, ``language:`` is ``lang:``); an unknown
  key is refused with the closest known one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.grammar import messages
from engine.errors import UsageError
from engine.suggest import closest

QUOTES = "\"'"
OPTION_KEYS = {"tags": "tags", "tag": "tags", "name": "name", "lang": "lang", "language": "lang"}
LIST_KEYS = frozenset({"tags"})


@dataclass(frozen=True, slots=True)
class Token:
    """One word. ``key`` is set for an option (``tags:vip`` → key ``tag``s, text ``vip``)."""

    text: str
    key: str | None = None
    quoted: bool = False

    @property
    def lower(self) -> str:
        return self.text.lower()


@dataclass(frozen=True, slots=True)
class Option:
    """An option's value; ``written`` is the key as the person wrote it (``tag``)."""

    value: str
    written: str


@dataclass(frozen=True, slots=True)
class Args:
    """The words after the command word(s), with the options taken out."""

    words: tuple[Token, ...]
    options: dict[str, Option] = field(default_factory=dict)

    def only(self, allowed: Sequence[str], *, form: str, usage: str) -> None:
        """Raises UsageError when an option outside ``allowed`` was given to ``form``."""
        for key, option in self.options.items():
            if key not in allowed:
                raise UsageError(messages.option_not_here(option.written, form), usage=usage, field=key)

    def text(self, start: int = 0) -> str:
        return " ".join(t.text for t in self.words[start:])


def tokenize(text: str, *, usage: str = "") -> list[Token]:
    """The words of ``text`` (already normalised). Raises UsageError for an unclosed quote."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        buf: list[str] = []
        key: str | None = None
        quoted = False
        while i < n and not text[i].isspace():
            char = text[i]
            if char in QUOTES and not buf:
                close = text.find(char, i + 1)
                if close < 0:
                    raise UsageError(messages.quote_not_closed(char), usage=usage)
                buf.append(text[i + 1 : close])
                quoted = True
                i = close + 1
                continue
            if char in ":=" and key is None and not quoted and _is_key("".join(buf)):
                key = "".join(buf)
                buf = []
                i += 1
                continue
            buf.append(char)
            i += 1
        tokens.append(Token("".join(buf), key=key, quoted=quoted))
    return tokens


def split(tokens: Sequence[Token], *, usage: str = "") -> Args:
    """Options out of ``tokens``, with their values joined up; raises UsageError for an
    unknown, repeated or empty option.
    """
    words: list[Token] = []
    options: dict[str, Option] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token.key is None:
            words.append(token)
            continue
        key = _canonical_key(token.key, usage)
        value = token.text
        if not value and not token.quoted and i < len(tokens) and tokens[i].key is None:
            value = tokens[i].text
            i += 1
        if key in LIST_KEYS:
            while (
                i < len(tokens)
                and tokens[i].key is None
                and (value.endswith(",") or tokens[i].text.startswith(","))
            ):
                value += tokens[i].text
                i += 1
        if key in options:
            raise UsageError(messages.option_twice(token.key), usage=usage, field=key)
        if not value.strip(" ,"):
            raise UsageError(messages.option_empty(token.key), usage=usage, field=key)
        options[key] = Option(value=value.strip(), written=token.key)
    return Args(words=tuple(words), options=options)


def _is_key(text: str) -> bool:
    return (
        bool(text)
        and text[0].isascii()
        and text[0].isalpha()
        and all(c.isascii() and (c.isalpha() or c == "_") for c in text)
    )


def _canonical_key(written: str, usage: str) -> str:
    key = OPTION_KEYS.get(written.lower())
    if key is None:
        guess = closest(written.lower(), OPTION_KEYS)
        raise UsageError(
            messages.unknown_option(written),
            usage=usage,
            suggestion=f"{OPTION_KEYS[guess]}:" if guess else None,
        )
    return key
