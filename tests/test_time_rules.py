"""One DST policy in every face: a local time the clocks skip or repeat is refused with the reason
and a suggestion, through the REST API (create and edit) and the shell, on both engines.

Herald's ``TIMEZONE`` here is America/New_York: on Sun 14 Mar 2027 its clocks jump from 02:00 to
03:00, and on Sun 7 Nov 2027 they go back from 02:00 to 01:00 (01:00-01:59 happens twice).
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.container import Herald
from bot.shell import Shell
from storage.models import Broadcast
from tests.conftest import Api
from tests.helpers import phones, seed_contacts, seed_templates
from tests.test_shell import Terminal

NEW_YORK = "America/New_York"
SKIPPED = "2027-03-14T02:30"
REPEATED = "2027-11-07T01:30"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"timezone": NEW_YORK}


def _seed(herald: Herald) -> None:
    seed_templates(herald)
    seed_contacts(herald, [(p, ["vip"]) for p in phones(3)])


def _broadcasts(herald: Herald) -> list[tuple[str, str | None]]:
    def rows() -> list[tuple[str, str | None]]:
        return [
            (b.status, b.scheduled_at.isoformat() if b.scheduled_at else None)
            for b in Broadcast.select().order_by(Broadcast.id)
        ]

    return herald.in_db(rows)


@pytest.mark.parametrize(
    ("schedule", "timezone", "says"),
    [
        (
            SKIPPED,
            None,
            "2027-03-14 02:30 does not exist in America/New_York: the clocks jump forward 1 hour then."
            " Try 2027-03-14T03:30.",
        ),
        (
            REPEATED,
            None,
            "2027-11-07 01:30 happens twice in America/New_York: the clocks go back 1 hour then."
            " Try 2027-11-07T02:30, after the repeated hour.",
        ),
        (
            "2027-10-31T01:15",
            "Europe/London",
            "2027-10-31 01:15 happens twice in Europe/London: the clocks go back 1 hour then."
            " Try 2027-10-31T02:15, after the repeated hour.",
        ),
    ],
)
async def test_rest_refuses_a_time_the_clocks_skip_or_repeat_on_create_and_edit(
    api: Api, herald: Herald, schedule: str, timezone: str | None, says: str
) -> None:
    _seed(herald)
    body: dict[str, Any] = {"template": "promo_autumn", "tags": ["vip"], "schedule": schedule}
    if timezone:
        body["timezone"] = timezone
    status, answer = await api.post("/api/broadcasts", body)
    assert status == 422
    assert answer["error"]["field"] == "schedule"
    assert answer["error"]["message"] == says
    assert _broadcasts(herald) == []

    _, draft = await api.post("/api/broadcasts", {"template": "promo_autumn", "tags": ["vip"]})
    status, answer = await api.call("PATCH", f"/api/broadcasts/{draft['id']}", json=body)
    assert status == 422
    assert says in answer["error"]["message"]
    assert _broadcasts(herald) == [("draft", None)]


async def test_rest_reads_the_hours_either_side_of_a_dst_change_with_their_own_offsets(
    api: Api, herald: Herald
) -> None:
    _seed(herald)
    for local, utc in (
        ("2027-03-14T01:59", "2027-03-14T06:59:00Z"),  # EST, -5
        ("2027-03-14T03:00", "2027-03-14T07:00:00Z"),  # EDT, -4
        ("2027-11-07T00:59", "2027-11-07T04:59:00Z"),  # EDT
        ("2027-11-07T02:00", "2027-11-07T07:00:00Z"),  # EST
    ):
        body = {"template": "promo_autumn", "tags": ["vip"], "schedule": local}
        status, created = await api.post("/api/broadcasts", body)
        assert status == 201, created
        assert created["scheduled_at"] == utc
        assert created["timezone"] == NEW_YORK


@pytest.mark.parametrize(
    ("line", "says", "suggestion"),
    [
        (
            "broadcast promo_autumn tags:vip at 2027-03-14 02:30",
            "2:30am on Sun 14 Mar 2027 does not exist in America/New_York",
            "Did you mean `2027-03-14 03:30`?",
        ),
        (
            "send promo_autumn to vip at 2027-11-07 01:30",
            "1:30am on Sun 7 Nov 2027 happens twice in America/New_York",
            "Did you mean `2027-11-07 02:30`?",
        ),
    ],
)
def test_the_shell_refuses_a_time_the_clocks_skip_or_repeat(
    herald: Herald, line: str, says: str, suggestion: str
) -> None:
    _seed(herald)
    terminal = Terminal(line)
    assert Shell(herald, read=terminal.read, write=terminal.write, user="asha").run() == 0
    assert says in terminal.shown
    assert suggestion in terminal.shown
    assert _broadcasts(herald) == []
