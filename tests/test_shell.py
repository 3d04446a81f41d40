"""``python -m bot shell``: the same commands and answers as Slack, with Confirm as a y/N prompt."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from bot.container import Herald
from bot.shell import Shell
from storage.models import AuditLog, Broadcast
from tests.helpers import phones, seed_contacts, seed_templates

ROOT = Path(__file__).resolve().parents[1]


class Terminal:
    """Scripted lines in, everything printed (prompts included) out."""

    def __init__(self, *lines: str) -> None:
        self.lines: Iterator[str] = iter(lines)
        self.out: list[str] = []

    def read(self, prompt: str) -> str | None:
        self.out.append(prompt)
        return next(self.lines, None)

    def write(self, text: str) -> None:
        self.out.append(text)

    @property
    def shown(self) -> str:
        return "\n".join(self.out)


def _shell(herald: Herald, *lines: str) -> Terminal:
    seed_templates(herald)
    seed_contacts(herald, [(p, ["vip"]) for p in phones(3)])
    terminal = Terminal(*lines)
    assert Shell(herald, read=terminal.read, write=terminal.write, user="asha").run() == 0
    return terminal


def _broadcasts(herald: Herald) -> list[str]:
    return herald.in_db(lambda: [b.status for b in Broadcast.select().order_by(Broadcast.id)])


def test_y_confirms_the_preview(herald: Herald) -> None:
    terminal = _shell(herald, "broadcast promo_autumn tags:vip now", "y", "broadcast list")
    shown = terminal.shown
    assert "3 will get it" in shown
    assert "Send it now to 3 contacts? [y/N] " in terminal.out
    assert "Confirmed by asha: broadcast #1 is sending to 3 contacts." in shown
    assert "#1 promo_autumn → vip · sending" in shown
    assert _broadcasts(herald) == ["sending"]
    actors = herald.in_db(lambda: {(a.face, a.actor) for a in AuditLog.select()})
    assert actors == {("shell", "asha")}


def test_anything_but_y_drops_the_draft(herald: Herald) -> None:
    terminal = _shell(herald, "send promo_autumn to vip at 9am", "")
    assert "Schedule it for Mon 30 Nov 09:00 UTC (3 contacts)? [y/N] " in terminal.out
    assert "was dropped; nothing was sent" in terminal.shown
    assert _broadcasts(herald) == ["cancelled"]


def test_a_change_at_the_prompt_is_previewed_again(herald: Herald) -> None:
    terminal = _shell(herald, "send promo_autumn to vip tomorrow at 9", "make it 10am instead", "y")
    assert "Schedule it for Tue 1 Dec 09:00 UTC (3 contacts)? [y/N] " in terminal.out
    assert "Schedule it for Tue 1 Dec 10:00 UTC (3 contacts)? [y/N] " in terminal.out
    assert "is scheduled for Tue 1 Dec 10:00 UTC" in terminal.shown
    assert _broadcasts(herald) == ["scheduled"]


def test_plain_words_read_ask_back_and_wait_for_a_yes(herald: Herald) -> None:
    terminal = _shell(
        herald,
        "which templates are approved?",
        "how many vip contacts do we have",
        "tag +447911000000 as gold",
        "y",
        "enroll +447911000001",
    )
    shown = terminal.shown
    assert "`promo_autumn` (en) · MARKETING · APPROVED" in shown
    assert "PENDING" not in shown
    assert "3 contacts with vip can be messaged" in shown
    assert "Tag +44••••••0000 with `gold`? Say yes to go ahead" in shown
    assert "Tagged +44••••••0000: gold." in shown
    assert "Which sequence should I enroll +44••••••0001 in?" in shown


def test_declining_to_send_a_saved_draft_leaves_it(herald: Herald) -> None:
    terminal = _shell(herald, "broadcast promo_autumn tags:vip draft", "broadcast send 1", "n")
    assert "Not sent; broadcast #1 is as it was." in terminal.shown
    assert _broadcasts(herald) == ["draft"]


def test_questions_refusals_and_help_read_as_in_a_slack_dm(herald: Herald) -> None:
    terminal = _shell(
        herald,
        "broadcast promo_autum tags:vip now",
        "1",
        "n",
        "contacts count",
        "help times",
        "quit",
        "never read",
    )
    shown = terminal.shown
    assert "Which template did you mean by `promo_autum`?" in shown
    assert "3 will get it" in shown  # "1" picked promo_autumn, and its preview followed
    assert "Usage: contacts count tags:<tag>" in shown  # plain text: no Slack escaping
    assert "Times are read in your timezone" in shown
    assert "never read" not in shown
    assert _broadcasts(herald) == ["cancelled"]


def test_python_m_bot_shell_runs_in_a_terminal(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shell.db'}",
        "REDIS_URL": "redis://127.0.0.1:1/0",  # nobody listens: direct processing
        "TIMEZONE": "Asia/Kolkata",
    }
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "WHATSAPP_TOKEN"):
        env.pop(name, None)
    script = "\n".join(
        [
            "templates sync",
            'contacts add +919812345678 name:"Asha" tags:vip',
            "broadcast promo_autumn tags:vip now",
            "y",
            "contacts count tags:vip",
            "",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot", "shell"],
        input=script,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "times are read in Asia/Kolkata" in out
    assert "Synced" in out
    assert "Added +91••••••5678 (Asha) with tags vip." in out
    assert "Asha · +91••••••5678 · vip" in out
    assert "Confirmed by" in out
    assert "1 contacts with vip can be messaged" in out
    assert "+919812345678" not in out + done.stderr
