"""``python -m bot demo``: the whole product in under a minute, with no account anywhere.

It seeds sample contacts, sends a broadcast and runs a short drip sequence
through the WhatsApp sandbox on a clock that it moves forward itself, and
prints the funnel as statuses arrive. It uses its own throwaway SQLite file
(never your database) and never sends a real message.
"""

from __future__ import annotations

import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from bot.container import Herald, build
from bot.settings import Settings
from engine.actor import Actor
from engine.broadcasts import BroadcastSpec
from engine.clock import ManualClock
from engine.contacts import ContactRow

DEMO = Actor("shell", "demo")
FIRST = ("Asha", "Ravi", "Meera", "Arjun", "Priya", "Kabir", "Zoya", "Dev", "Ira", "Neel", "Tara", "Omar")
LAST = ("Rao", "Shah", "Iyer", "Khan", "Das", "Menon", "Gill", "Nair")
SEQUENCE = {
    "name": "onboarding",
    "trigger": {"type": "tag_added", "tag": "new"},
    "steps": [
        {"id": "welcome", "type": "message", "template": "welcome_offer"},
        {"id": "wait", "type": "delay", "days": 1},
        {"id": "check", "type": "condition", "if": {"has_tag": "purchased"}, "yes": "thanks", "no": "nudge"},
        {"id": "thanks", "type": "message", "template": "thank_you", "next": None},
        {"id": "nudge", "type": "message", "template": "last_chance"},
    ],
}


class Demo:
    def __init__(self, herald: Herald, clock: ManualClock, out: TextIO) -> None:
        self.herald = herald
        self.clock = clock
        self.out = out

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def run(self, contacts: int = 60) -> None:
        self.seed(contacts)
        self.broadcast()
        self.sequence()
        self.say("\nThat was Herald on the sandbox. Run `python -m bot serve` to use it for real.")

    def seed(self, count: int) -> None:
        synced = self.herald.in_db(self.herald.template_sync.run, by=DEMO)
        rng = random.Random(7)
        rows = [
            ContactRow(
                phone=f"+4479110{i:05d}",
                name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                tags=tuple(rng.sample(("vip", "gold", "newsletter"), k=rng.randint(1, 2))),
            )
            for i in range(count)
        ]
        result = self.herald.in_db(self.herald.contacts.write, rows, source="demo")
        self.say(
            f"Seeded {len(result.created)} sample contacts and {synced.approved} approved sample templates."
        )

    def broadcast(self) -> None:
        spec = BroadcastSpec(template="promo_autumn", tags=["vip", "gold"], name="Autumn sale")
        b = self.herald.in_db(self.herald.broadcasts.create, spec, by=DEMO)
        preview = self.herald.in_db(self.herald.broadcasts.preview, b["id"], mask=True)
        self.say(f"\nBroadcast “{b['name']}” (promo_autumn → vip, gold)")
        self.say(
            f"  matched {preview.matched} → opted out {preview.opted_out} → deleted {preview.deleted}"
            f" → capped {preview.capped} → will send {preview.will_send}"
        )
        self.say("  first recipients: " + ", ".join(c["phone"] for c in preview.sample[:3]) + " …")
        self.herald.in_db(self.herald.broadcasts.start, b["id"], by=DEMO)
        for _ in range(40):
            self.advance(timedelta(seconds=5))
            funnel = self.herald.in_db(self.herald.broadcasts.get, b["id"])["funnel"]
            self.say("  " + _bar(funnel))
            if not self.herald.sandbox or not self.herald.sandbox.pending:
                break
        final = self.herald.in_db(self.herald.broadcasts.get, b["id"])
        reasons = ", ".join(f"{k}: {v}" for k, v in final["funnel"]["failed_reasons"].items()) or "none"
        self.say(f"  {final['status']}; failures: {reasons}")

    def sequence(self) -> None:
        view = self.herald.in_db(self.herald.sequences.create, SEQUENCE, by=DEMO)
        self.herald.in_db(self.herald.sequences.activate, view["id"], by=DEMO)
        self.say("\nSequence “onboarding”: welcome → wait 1 day → purchased? thank you : last chance")
        newcomers = [
            ContactRow(phone=f"+4479120{i:05d}", name=f"{FIRST[i]} {LAST[i % len(LAST)]}", tags=("new",))
            for i in range(6)
        ]
        self.herald.in_db(self.herald.contacts.write, newcomers, source="demo")
        self.advance(timedelta(minutes=5))
        buyers = [ContactRow(phone=r.phone, tags=("purchased",)) for r in newcomers[:2]]
        self.herald.in_db(self.herald.contacts.write, buyers, source="demo")
        for day in (1, 2):
            self.advance(timedelta(hours=12))
            self.advance(timedelta(hours=12))
            stats = self.herald.in_db(self.herald.sequences.get, view["id"])
            steps = stats["versions"][0].get("steps", {}) if stats["versions"] else {}
            sent = ", ".join(f"{step}: {n['sent']}" for step, n in sorted(steps.items()))
            self.say(f"  day {day}: {stats['enrollments']['completed']} of 6 completed; sent {sent}")

    def advance(self, step: timedelta) -> None:
        """Move the clock, let the sandbox emit what is due, and run the scheduler tick."""
        self.clock.advance(step)
        for _ in range(5):
            self.herald.in_db(self.herald.tick.run)
            self.herald.dispatcher.drain()
            if self.herald.sandbox is not None:
                self.herald.sender.call(self.herald.sandbox.release_due())
        self.herald.in_db(self.herald.tick.run)


def _bar(funnel: dict[str, Any], width: int = 24) -> str:
    total = funnel["total"] or 1
    filled = round(width * funnel["sent"] / total)
    return (
        f"[{'█' * filled}{'·' * (width - filled)}] sent {funnel['sent']}/{funnel['total']}"
        f" · delivered {funnel['delivered']} · read {funnel['read']} · failed {funnel['failed']}"
    )


def run_demo(settings: Settings, out: TextIO = sys.stdout) -> int:
    folder = Path(tempfile.mkdtemp(prefix="herald-demo-"))
    demo_settings = settings.model_copy(
        update={
            "database_url": f"sqlite:///{folder / 'demo.db'}",
            "whatsapp_token": None,  # the demo never reaches Meta, whatever is configured
            "whatsapp_mps": 1000,
        }
    )
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    herald = build(demo_settings, clock=clock, direct_only=True)
    try:
        Demo(herald, clock, out).run()
    finally:
        herald.close()
    return 0
