"""Delivery statuses: any order, any duplication, same record; statuses for unknown messages wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.container import Herald
from engine.schedule import NOW
from engine.statuses import apply_pending, apply_statuses, merge
from engine.whatsapp.webhook import StatusError, StatusEvent
from storage import ledger
from storage.models import OutboundMessage, PendingStatus
from storage.statuses import Delivery, Pending, keep_pending
from tests.helpers import phones, seed_contacts, seed_templates

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
START = Delivery(
    state="sending", wamid=None, accepted_at=None, delivered_at=None, read_at=None, failed_at=None
)


def _event(status: str, seconds: int, code: int | None = None) -> StatusEvent:
    errors = (StatusError(code, f"error {code}", ""),) if code else ()
    return StatusEvent("wamid.A", status, T0 + timedelta(seconds=seconds), "+447911000000", "1", errors)  # type: ignore[arg-type]


EVENTS = st.lists(
    st.one_of(
        st.builds(_event, st.sampled_from(["sent", "delivered", "read"]), st.integers(0, 600)),
        st.builds(_event, st.just("failed"), st.integers(0, 600), st.sampled_from([131026, 131050, 131000])),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(events=EVENTS, order=st.randoms(use_true_random=False), copies=st.integers(1, 3))
def test_any_order_and_any_duplication_give_the_same_record(events, order, copies) -> None:  # type: ignore[no-untyped-def]
    expected = START
    for e in events:
        expected = merge(expected, e)
    shuffled = events * copies
    order.shuffle(shuffled)
    got = START
    for e in shuffled:
        got = merge(got, e)
    assert got == expected
    if got.read_at is not None:
        assert got.delivered_at is not None
        assert got.delivered_at <= got.read_at
    assert got.accepted_at is not None  # any status proves Meta accepted it


def test_merging_never_moves_the_funnel_backward() -> None:
    delivered = merge(merge(START, _event("sent", 1)), _event("read", 5))
    late = merge(delivered, _event("delivered", 9))
    assert late.read_at == delivered.read_at
    assert late.delivered_at == T0 + timedelta(seconds=5)
    failed = merge(late, _event("failed", 20, 131026))
    assert (failed.state, failed.delivered_at, failed.read_at) == ("failed", late.delivered_at, late.read_at)
    assert merge(failed, _event("sent", 30)).state == "failed"


def test_a_status_for_an_unrecorded_wamid_waits_and_is_applied_when_the_send_is_recorded(
    herald: Herald,
) -> None:
    seed_templates(herald)
    seed_contacts(herald, [(p, ["vip"]) for p in phones(1)])
    from engine.actor import SYSTEM
    from engine.broadcasts import BroadcastSpec

    with herald.database.connection_context():
        b = herald.broadcasts.create(
            BroadcastSpec(template="order_update", tags=["vip"], schedule=NOW), by=SYSTEM
        )
        row = OutboundMessage.get(OutboundMessage.broadcast == b["id"])
        early = StatusEvent("wamid.LATE", "read", T0, "+447911000000", None)  # no callback echo
        with herald.database.atomic():
            result = apply_statuses(herald.database, [early], T0)
        assert (result.applied, result.pending) == (0, 1)
        assert PendingStatus.select().count() == 1
        # the send's answer is recorded now, with that wamid
        OutboundMessage.update(state="sending").where(OutboundMessage.id == row.id).execute()
        with herald.database.atomic():
            outcomes = ledger.Outcomes()
            outcomes.sent.append(ledger.Sent(row.id, "wamid.LATE", T0))
            ledger.record(herald.database, outcomes)
            assert apply_pending(herald.database, ["wamid.LATE"]) == 1
        got = OutboundMessage.get_by_id(row.id)
        assert (got.state, got.wamid, got.read_at, got.delivered_at) == ("sent", "wamid.LATE", T0, T0)
        assert PendingStatus.select().count() == 0


def test_a_status_kept_after_its_send_was_recorded_is_applied_by_the_next_tick(herald: Herald) -> None:
    """The hand-over race: the outcome write looked for pending statuses before an apply that
    could not find the wamid yet committed its own; the tick's watchdog applies it."""
    seed_templates(herald)
    seed_contacts(herald, [(p, ["vip"]) for p in phones(1)])
    from engine.actor import SYSTEM
    from engine.broadcasts import BroadcastSpec

    with herald.database.connection_context():
        b = herald.broadcasts.create(
            BroadcastSpec(template="order_update", tags=["vip"], schedule=NOW), by=SYSTEM
        )
        row = OutboundMessage.get(OutboundMessage.broadcast == b["id"])
        OutboundMessage.update(state="sending").where(OutboundMessage.id == row.id).execute()
        with herald.database.atomic():  # the worker's write, and its look for pending statuses
            outcomes = ledger.Outcomes()
            outcomes.sent.append(ledger.Sent(row.id, "wamid.RACE", T0))
            ledger.record(herald.database, outcomes)
            assert apply_pending(herald.database, ["wamid.RACE"]) == 0
        with herald.database.atomic():  # the apply that read before that commit keeps its status
            late = Pending("wamid.RACE", None, "read", T0 + timedelta(seconds=5), [])
            keep_pending(herald.database, [late], T0)
        assert PendingStatus.select().count() == 1
        herald.tick.run()
        got = OutboundMessage.get_by_id(row.id)
        assert (got.state, got.read_at, got.delivered_at) == ("sent", *(2 * [T0 + timedelta(seconds=5)]))
        assert PendingStatus.select().count() == 0
