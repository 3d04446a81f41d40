"""Bad input, generated: nothing makes the parsers raise anything but their own clear error."""

from __future__ import annotations

import re
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.container import Herald
from engine.actor import API
from engine.errors import Invalid
from engine.importer import read_rows
from engine.phones import normalize_phone
from engine.whatsapp.errors import MalformedWebhook
from engine.whatsapp.webhook import parse
from storage.models import Contact
from tests.helpers import tag_link_orphans

E164 = re.compile(r"\+[1-9]\d{6,14}")
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(
    [
        "object",
        "entry",
        "changes",
        "field",
        "value",
        "statuses",
        "messages",
        "id",
        "status",
        "timestamp",
        "recipient_id",
        "errors",
        "code",
        "from",
        "type",
        "text",
        "body",
    ]
)
SHAPED = st.recursive(
    st.none()
    | st.integers(0, 2**40)
    | st.text(max_size=12)
    | st.just("whatsapp_business_account")
    | st.just("messages"),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(body=st.binary(max_size=300) | JSON.map(orjson.dumps) | SHAPED.map(orjson.dumps))
def test_the_webhook_parser_accepts_or_names_the_problem(body: bytes) -> None:
    problem: str | None = None
    try:
        events: object = parse(body)
    except MalformedWebhook as exc:
        problem, events = exc.render(), None
    assert problem or isinstance(events, list)


PHONEISH = st.text(alphabet="+0123456789 -().\u00a0/x", max_size=24) | st.text(max_size=24)


@settings(max_examples=600, deadline=None)
@given(raw=PHONEISH)
def test_any_phone_text_is_normalised_or_refused_with_a_reason(raw: str) -> None:
    try:
        phone, problem = normalize_phone(raw), ""
    except Invalid as exc:
        phone, problem = "", exc.render()
    if phone:
        assert E164.fullmatch(phone)
    else:
        assert problem
        digits = re.sub(r"\D", "", raw)
        if len(digits) >= 8:
            assert digits not in re.sub(r"\D", "", problem.replace("919812345678", ""))  # never echoed whole


LINES = st.lists(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
    | st.sampled_from(["+447911123456,Bob,vip,yes", '+919812345678,"A, B",gold|vip,no', ",,,", 'x"y']),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(
    header=st.sampled_from(["phone,name,tags,opted_in", "name,phone", "PHONE", "phone,phone", "", "tags"]),
    lines=LINES,
)
def test_any_csv_is_read_or_refused_as_a_whole(header: str, lines: list[str]) -> None:
    text = [header + "\n", *[line + "\n" for line in lines]]
    try:
        rows, problem = list(read_rows(text)), ""
    except Invalid as exc:
        rows, problem = [], exc.message
    assert not problem or "header" in problem or "empty" in problem
    for number, row in rows:
        assert number >= 2
        assert isinstance(row, str) or E164.fullmatch(row.phone)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=LINES)
def test_importing_garbage_never_fails_the_import_and_keeps_only_valid_numbers(
    herald: Herald, lines: list[str]
) -> None:
    report = herald.in_db(
        herald.importer.run, ["phone,name,tags,opted_in\n", *[line + "\n" for line in lines]], by=API
    )
    assert report.accepted + report.updated + report.rejected_total <= len(lines)
    phones: list[Any] = herald.in_db(lambda: [c.phone for c in Contact.select()])
    assert all(E164.fullmatch(p) for p in phones)
    assert tag_link_orphans(herald) == []
