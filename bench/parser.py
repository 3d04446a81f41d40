"""The conversation parser's time per message: ``interpret`` (mentions, DMs, the shell, WhatsApp)
and ``parse`` (slash commands), over the tests' corpus of phrasings, mistyped copies of it, and
the worst cases (2,000-character messages, long tag lists, fragments that read as nothing).

    python -m bench.parser [--rounds 20] [--big]

Each message is timed on its own after one warm-up pass, on the wall clock and in this thread's
CPU time (which other jobs on a shared machine do not inflate); printed are the median, the
99th percentile and the slowest, per set and over everything, next to the machine and its load. ``--big`` reads against a large workspace's vocabulary (500 templates, 2,000 tags,
100 sequences) instead of the corpus's. The target (issue 19) is p99 ≤ 5 ms per message.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import statistics
import time
from collections.abc import Callable
from datetime import datetime

from bot.grammar import Vocabulary, interpret, parse
from engine.errors import UsageError
from tests.grammar.corpus import CORPUS, KOLKATA, NOW, VOCABULARY

TARGET_MS = 5.0
Reader = Callable[..., object]


def mistyped(text: str, rng: random.Random) -> str:
    """``text`` with one to three letters dropped, doubled or swapped."""
    chars = list(text)
    for _ in range(rng.randint(1, 3)):
        letters = [i for i, c in enumerate(chars) if c.isalpha()]
        if not letters:
            break
        i = rng.choice(letters)
        kind = rng.choice(("drop", "double", "swap"))
        if kind == "drop":
            del chars[i]
        elif kind == "double":
            chars.insert(i, chars[i])
        elif i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def worst_cases(rng: random.Random) -> list[str]:
    tags = ", ".join(f"tag{i}" for i in range(300))
    words = ["send", "promo_autumn", "to", "vip", "tomorrow", "at", "9am", "IST", "please"]
    return [
        "x" * 1999,
        " ".join(rng.choice(words) for _ in range(330))[:1999],
        f"send promo_autumn to {tags} tomorrow 9am"[:1999],
        f"tag +919812345678 {tags}"[:1999],
        "how did " + "the diwali promo " * 100 + "do",
        "stats from " + "1 nov " * 200 + "to 15 nov",
        "who is " + "Asha " * 300,
        "👍" * 500,
        "<@U0123> " * 200,
        "1/12 " * 300,
    ]


CITIES = (
    *("delhi", "mumbai", "pune", "chennai", "kolkata", "jaipur", "lucknow", "surat", "indore", "goa"),
    *("london", "leeds", "paris", "lyon", "berlin", "munich", "dubai", "doha", "austin", "boston"),
)
THINGS = (
    *("shoes", "sarees", "phones", "books", "toys", "tea", "coffee", "watches", "bags", "laptops"),
    *("rugs", "lamps", "pens", "bikes", "tents", "hats", "socks", "soaps", "jams", "kites"),
)
KINDS = ("buyers", "leads", "vip", "lapsed", "trial")


def big_vocabulary() -> Vocabulary:
    """500 templates, 2,000 tags and 100 sequences, named as a team names them."""
    tags = [f"{city}-{thing}-{kind}" for city in CITIES for thing in THINGS for kind in KINDS]
    templates = [f"{thing}_{kind}_{n}" for thing in THINGS for kind in KINDS for n in range(5)]
    return Vocabulary.of(
        templates=[*templates, "promo_autumn", "order_update"],
        tags=[*tags, "vip", "gold", "new"],
        sequences=[f"{city.title()} {thing} welcome" for city in CITIES for thing in THINGS[:5]]
        + ["onboarding"],
    )


def timed(
    read: Reader, texts: list[str], vocabulary: Vocabulary, now: datetime, rounds: int
) -> tuple[list[float], list[float]]:
    """Milliseconds per message, every message ``rounds`` times: on the wall clock, and of this
    thread's CPU (which other jobs on the machine do not inflate).
    """
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds):
        for text in texts:
            started, started_cpu = time.perf_counter_ns(), time.thread_time_ns()
            with contextlib.suppress(UsageError):
                read(text, now=now, tz=KOLKATA, vocabulary=vocabulary)
            wall.append((time.perf_counter_ns() - started) / 1e6)
            cpu.append((time.thread_time_ns() - started_cpu) / 1e6)
    return wall, cpu


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} / {five:.2f} / {fifteen:.2f}"


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rounds", type=int, default=20)
    options.add_argument("--big", action="store_true", help="a large workspace's vocabulary")
    args = options.parse_args()
    rng = random.Random(19)
    vocabulary = big_vocabulary() if args.big else VOCABULARY
    phrases = [text for text, _ in CORPUS]
    sets = {
        "corpus": phrases,
        "mistyped": [mistyped(p, rng) for p in phrases],
        "worst cases": worst_cases(rng),
    }
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()};"
        f" {load()}; vocabulary: {'big' if args.big else 'corpus'}; {args.rounds} rounds"
    )
    for text in [t for texts in sets.values() for t in texts]:  # warm-up pass, not counted
        for read in (interpret, parse):
            with contextlib.suppress(UsageError):
                read(text, now=NOW, tz=KOLKATA, vocabulary=vocabulary)
    every: list[float] = []
    every_cpu: list[float] = []
    for name, texts in sets.items():
        for label, read in (("interpret", interpret), ("parse", parse)):
            spent, cpu = timed(read, texts, vocabulary, NOW, args.rounds)
            if label == "interpret":
                every += spent
                every_cpu += cpu
            print(
                f"  {label:9} {name:11} {len(texts):4} messages: median {statistics.median(spent):.3f} ms,"
                f" p99 {p99(spent):.3f} ms, slowest {max(spent):.3f} ms; CPU p99 {p99(cpu):.3f} ms"
            )
    verdict = "meets" if p99(every) <= TARGET_MS else "misses"
    print(
        f"interpret, every message: p99 {p99(every):.3f} ms per message ({verdict} the {TARGET_MS:.0f} ms"
        f" target), median {statistics.median(every):.3f} ms, slowest {max(every):.3f} ms;"
        f" CPU p99 {p99(every_cpu):.3f} ms, slowest {max(every_cpu):.3f} ms; {load()}"
    )


if __name__ == "__main__":
    main()
