"""Undo what chat clients do to typed text before the parser reads it.

Slack's clients turn straight quotes into smart quotes and ``--`` into dashes,
paste non-breaking and zero-width spaces, escape ``& < >`` as HTML entities,
and wrap anything that looks like a phone number, an e-mail address or a link
in ``<tel:+91…|+91 98123 45678>``-style markup. WhatsApp and terminals send
plainer text, and the same cleanup is harmless there.
"""

from __future__ import annotations

import re
import unicodedata

# Compatibility forms first (full-width digits and letters, ligatures), then our own table.
_TRANSLATE = str.maketrans(
    {
        "\u201c": '"',  # “
        "\u201d": '"',  # ”
        "\u201e": '"',  # „
        "\u00ab": '"',  # «
        "\u00bb": '"',  # »
        "\u2018": "'",  # ‘
        "\u2019": "'",  # ’
        "\u201a": "'",  # ‚
        "\u2032": "'",  # ′
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",  # –
        "\u2014": "-",  # —
        "\u2015": "-",
        "\u2212": "-",  # minus sign
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
        "\u3000": " ",
        "\u200b": None,  # zero-width space
        "\u200c": None,
        "\u200d": None,
        "\u2060": None,  # word joiner
        "\ufeff": None,  # byte-order mark
        "\u00ad": None,  # soft hyphen
    }
)

# <tel:+919812345678|+91 98123 45678>, <mailto:a@b.c|a@b.c>, <https://x|label>, <https://x>
_LINK = re.compile(r"<(?P<scheme>tel|mailto|https?|sms):(?P<target>[^|<>]*)(?:\|(?P<label>[^<>]*))?>")
# <@U0123ABC> or <@U0123ABC|asha>: a person mentioned; the bot's own name when it is addressed
_USER_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^<>]*)?>")
# <#C0123|general> → #general, <!here> → @here, <!subteam^S1|@team> → @team
_CHANNEL = re.compile(r"<#[A-Z0-9]+(?:\|(?P<name>[^<>]*))?>")
_SPECIAL = re.compile(r"<!(?P<name>[a-z]+)(?:\^[^|<>]*)?(?:\|(?P<label>[^<>]*))?>")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """The text with chat-client decoration removed and whitespace collapsed to single spaces.

    Quotes become ``"`` and ``'``, dashes ``-``, Slack link markup its visible
    label (or its target without the scheme), mentions of people disappear,
    and ``&lt; &gt; &amp;`` become ``< > &``. Never raises.
    """
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
    text = _LINK.sub(_unwrap_link, text)
    text = _USER_MENTION.sub(" ", text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group("name") or "channel"), text)
    text = _SPECIAL.sub(lambda m: m.group("label") or "@" + m.group("name"), text)
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    text = "".join(c if c.isprintable() or c.isspace() else " " for c in text)
    return _SPACE.sub(" ", text).strip()


def _unwrap_link(match: re.Match[str]) -> str:
    label = match.group("label")
    if label:
        return label
    if match.group("scheme") in ("http", "https"):
        return f"{match.group('scheme')}:{match.group('target')}"
    return match.group("target")
