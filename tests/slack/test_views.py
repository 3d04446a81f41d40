"""Block Kit views stay inside Slack's limits for the largest realistic content, and say what matters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot.faces.answers import BroadcastDone, BroadcastPreview, BroadcastReport, Intent, Outcome, StatsReport
from bot.slack.views import blocks as limits
from bot.slack.views.answers import render
from bot.slack.views.broadcast import read_button_value
from bot.slack.views.funnel import funnel_message
from engine.actor import Actor
from engine.broadcasts import Preview
from engine.stats import BroadcastLine, Period, Totals

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
LONG = "Ṡ" * 150  # a long name in a script that is many bytes, with nothing to trim on
REASONS = {
    f"{131000 + i} A long failure title from Meta that goes on and on #{i}": 1000 - i for i in range(40)
}


def check(body: dict[str, Any]) -> None:
    """What Slack checks (slack_sdk's own validators) plus the overall text budget."""
    blocks = body["blocks"]
    assert 0 < len(blocks) <= limits.MAX_BLOCKS
    assert len(body["text"]) <= limits.FALLBACK_TEXT
    total = 0
    for raw in blocks:
        parsed = Block.parse(raw)
        assert parsed is not None
        parsed.validate_json()
        if raw["type"] == "section":
            assert len(raw.get("text", {}).get("text", "")) <= limits.SECTION_TEXT
            assert len(raw.get("fields", [])) <= limits.SECTION_FIELDS
        if raw["type"] == "header":
            assert len(raw["text"]["text"]) <= limits.HEADER_TEXT
        for element in raw.get("elements", []):
            if element.get("type") == "button":
                assert len(element["value"]) <= limits.BUTTON_VALUE
                assert len(element["text"]["text"]) <= limits.BUTTON_TEXT
        total += limits.text_size(raw)
    assert total <= limits.TOTAL_TEXT


def broadcast(**extra: Any) -> dict[str, Any]:
    view = {
        "id": 123456,
        "name": "Diwali <promo> & friends " + LONG,
        "template": "promo_autumn_" + "x" * 400,
        "language": "en_US",
        "category": "MARKETING",
        "tags": [f"tag-{i:03d}-" + "t" * 56 for i in range(100)],
        "status": "sending",
        "status_reason": None,
        "scheduled_at": "2026-12-01T03:30:00Z",
        "timezone": "Asia/Kolkata",
        "scheduled_for": "Tue 1 Dec 09:00 Asia/Kolkata (03:30 UTC)",
        "notify": {},
        "audience_total": 1_000_000,
        "started_at": "2026-11-30T08:00:00Z",
        "completed_at": None,
        "funnel": {
            "total": 1_000_000,
            "sent": 400_000,
            "delivered": 380_000,
            "read": 200_000,
            "replied": 1_200,
            "failed": 30_000,
            "skipped": {f"reason_{i}_" + "r" * 40: i for i in range(30)},
            "failed_reasons": REASONS,
            "pending": 560_000,
        },
    }
    view.update(extra)
    return view


def preview(n: int = 10) -> Preview:
    sample = [
        {
            "id": i,
            "name": f"{LONG} <b>{i}</b>",
            "phone": "+91••••••5678",
            "tags": [f"tag-{j}" + "t" * 56 for j in range(60)],
        }
        for i in range(n)
    ]
    return Preview(
        total=999_999,
        matched=1_000_000,
        opted_out=1,
        deleted=0,
        capped=12,
        will_send=999_987,
        sample=sample,
        seconds=12_500,
    )


def test_the_largest_preview_fits_and_its_buttons_carry_the_broadcast_and_what_it_showed() -> None:
    shown_as = "0123456789abcdef"
    answer = BroadcastPreview(
        broadcast(status="draft"), preview(), Intent.CONFIRM, 80, shown_as, changed=True
    )
    body = render(answer, now=NOW, mps=80)
    check(body)
    actions = [b for b in body["blocks"] if b["type"] == "actions"]
    assert len(actions) == 1
    values = {e["action_id"]: e["value"] for e in actions[0]["elements"]}
    value = f"123456:confirm:{shown_as}"
    assert values == {"herald_confirm": value, "herald_cancel": value}
    assert read_button_value(values["herald_confirm"]) == (123456, Intent.CONFIRM, shown_as)
    assert read_button_value("123456:confirm") == (123456, Intent.CONFIRM, None)  # a button from before
    assert "changed after the preview you confirmed" in str(body["blocks"][1])
    shown = str(body)
    assert "Tue 1 Dec 09:00 Asia/Kolkata (03:30 UTC)" in shown
    assert "999,987 will get it" in shown
    assert "<b>" not in shown  # names are escaped for mrkdwn
    assert "&lt;b&gt;" in shown


def test_a_preview_lists_the_first_ten_with_masked_phones() -> None:
    p = preview(10)
    p.sample[0]["name"] = "Asha"
    body = render(
        BroadcastPreview(broadcast(status="draft", tags=["vip"]), p, Intent.CONFIRM, 80), now=NOW, mps=80
    )
    check(body)
    text = str(body)
    assert "First 10 of 999,999" in text
    assert "Asha · +91••••••5678" in text


def test_a_draft_preview_has_no_buttons() -> None:
    body = render(BroadcastPreview(broadcast(status="draft"), preview(2), None, 80), now=NOW, mps=80)
    check(body)
    assert all(b["type"] != "actions" for b in body["blocks"])


@pytest.mark.parametrize("status", ["sending", "completed", "paused", "cancelled"])
def test_the_live_funnel_fits_with_many_failure_and_skip_reasons(status: str) -> None:
    b = broadcast(status=status, completed_at="2026-11-30T10:05:00Z" if status == "completed" else None)
    body = funnel_message(b, now=NOW + timedelta(minutes=3), mps=80)
    check(body)
    text = str(body)
    if status == "sending":
        assert "about 1.9 hours left" in text
    if status == "completed":
        assert "✅ Completed in 2.1 hours." in text


def test_the_funnel_shows_progress_stages_and_reasons() -> None:
    b = broadcast(
        name="Autumn",
        tags=["vip"],
        funnel={
            "total": 10,
            "sent": 8,
            "delivered": 6,
            "read": 3,
            "replied": 1,
            "failed": 1,
            "skipped": {"frequency_cap": 1},
            "failed_reasons": {"131026 Message undeliverable": 1},
            "pending": 0,
        },
    )
    text = str(funnel_message(b, now=NOW, mps=80))
    assert "▓" * 20 + " 100%" in text
    assert "10 / 10 handled" in text
    assert "Delivered 6 (75%)" in text
    assert "Read 3 (38%)" in text
    assert "131026 Message undeliverable ×1" in text
    assert "Skipped 1 (frequency cap 1)" in text
    assert "13:30 Asia/Kolkata" in text  # updated, in the broadcast's zone


def test_what_a_click_did_names_who_did_it() -> None:
    body = render(
        BroadcastDone(broadcast(status="scheduled"), Outcome.SCHEDULED, Actor("slack", "U1")), now=NOW, mps=80
    )
    check(body)
    assert "Confirmed by <@U1>: broadcast #123456 is scheduled for Tue 1 Dec 09:00" in str(body)


def test_a_report_is_the_funnel() -> None:
    check(render(BroadcastReport(broadcast()), now=NOW, mps=80))


def test_the_largest_stats_report_fits() -> None:
    line = BroadcastLine(
        7, "A <long> name " + LONG, "promo", "completed", NOW, 10**6, 10**6, 9 * 10**5, 5 * 10**5, 10, 5, 0, 0
    )
    totals = Totals(
        sent=10**6,
        delivered=9 * 10**5,
        read=5 * 10**5,
        failed=3,
        failed_reasons=REASONS,
        opt_outs=4,
        skipped={"frequency_cap": 9},
    )
    period = Period(NOW, NOW + timedelta(days=1), totals, Totals(sent=5 * 10**5), [line] * 10, 250)
    body = render(StatsReport("yesterday", "Asia/Kolkata", period), now=NOW, mps=80)
    check(body)
    text = str(body)
    assert "…and 250 more" in text
    assert "▲ 100%" in text
    assert "&lt;long&gt;" in text


def test_a_quiet_period_says_so() -> None:
    period = Period(NOW, NOW + timedelta(days=1), Totals(), Totals(), [], 0)
    body = render(StatsReport("today", "UTC", period), now=NOW, mps=80)
    check(body)
    assert "Nothing was sent in this period." in str(body)
