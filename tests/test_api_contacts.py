"""The contacts REST API, through a real socket, on SQLite and PostgreSQL."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from bot.container import Herald
from bot.errors import BodyTooLarge
from engine.actor import API
from engine.contacts import ContactRow
from engine.events import ContactCreated, ContactOptedOut, TagAdded
from engine.importer import MAX_REPORTED, Importer
from storage import contacts as contact_store
from storage.database import is_postgres
from storage.models import AuditLog, Contact, ContactTag, Tag
from tests.conftest import Api
from tests.helpers import tag_link_orphans


def _snapshot(herald: Herald) -> tuple[Any, ...]:
    """Everything a bad request must leave untouched."""
    with herald.database.connection_context():
        return (
            sorted((c.phone, c.name, c.opted_in, c.status) for c in Contact.select()),
            sorted((t.contact_id, t.tag_id) for t in ContactTag.select()),
            Tag.select().count(),
            AuditLog.select().count(),
        )


class Recorder:
    def __init__(self, herald: Herald) -> None:
        self.events: list[Any] = []
        for kind in (ContactCreated, TagAdded, ContactOptedOut):
            herald.bus.subscribe(kind, self.events.append)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


async def test_upsert_creates_then_updates_by_phone(api: Api) -> None:
    status, created = await api.post(
        "/api/contacts",
        {"phone": "+91 98123 45678", "name": "Asha", "tags": [" VIP ", "gold", "vip"]},
    )
    assert status == 201
    assert created["phone"] == "+919812345678"
    assert created["tags"] == ["gold", "vip"]
    assert created["opted_in"] is True
    assert created["status"] == "active"

    status, updated = await api.post(
        "/api/contacts",
        {"phone": "0091-98123-45678", "attributes": {"city": "Pune"}, "tags": ["new"]},
    )
    assert status == 200
    assert updated["id"] == created["id"]
    assert updated["name"] == "Asha"  # unchanged when not given
    assert updated["tags"] == ["gold", "new", "vip"]  # tags are added, never silently removed
    assert updated["attributes"] == {"city": "Pune"}


async def test_creating_a_contact_and_adding_tags_publish_events(api: Api, herald: Herald) -> None:
    seen = Recorder(herald)
    _, contact = await api.post("/api/contacts", {"phone": "+447911123456", "tags": ["vip"]})
    assert [e.contact_ids for e in seen.of(ContactCreated)] == [(contact["id"],)]
    assert [(e.tag, e.contact_ids) for e in seen.of(TagAdded)] == [("vip", (contact["id"],))]

    status, _ = await api.post(f"/api/contacts/{contact['id']}/tags", {"tags": ["VIP", "purchased"]})
    assert status == 200
    # vip was already there: only the new tag fires
    assert [(e.tag, e.contact_ids) for e in seen.of(TagAdded)][1:] == [("purchased", (contact["id"],))]

    await api.post("/api/contacts", {"phone": "+447911123456", "name": "Bob"})
    assert len(seen.of(ContactCreated)) == 1  # an update is not a creation


async def test_list_by_tag_is_or_and_keyset_paged(api: Api) -> None:
    ids = {}
    for phone, tags in [
        ("+447911000001", ["vip"]),
        ("+447911000002", ["gold"]),
        ("+447911000003", ["other"]),
        ("+447911000004", ["vip", "gold"]),
        ("+447911000005", []),
    ]:
        _, c = await api.post("/api/contacts", {"phone": phone, "tags": tags})
        ids[phone] = c["id"]
    status, page = await api.get("/api/contacts?tag=vip&tag=gold&limit=2")
    assert status == 200
    assert [c["phone"] for c in page["contacts"]] == ["+447911000001", "+447911000002"]
    assert page["next"] == ids["+447911000002"]
    _, rest = await api.get(f"/api/contacts?tag=vip&tag=GOLD&limit=2&after={page['next']}")
    assert [c["phone"] for c in rest["contacts"]] == ["+447911000004"]
    assert rest["next"] is None
    _, none = await api.get("/api/contacts?tag=nobody")
    assert none == {"contacts": [], "next": None}
    _, everyone = await api.get("/api/contacts")
    assert len(everyone["contacts"]) == 5


async def test_remove_tag_opt_out_and_soft_delete(api: Api, herald: Herald) -> None:
    seen = Recorder(herald)
    _, c = await api.post("/api/contacts", {"phone": "+447911123456", "tags": ["vip", "gold"]})
    status, after = await api.delete(f"/api/contacts/{c['id']}/tags/VIP")
    assert status == 200
    assert after["tags"] == ["gold"]
    status, body = await api.delete(f"/api/contacts/{c['id']}/tags/vip")
    assert status == 404
    assert "has no tag 'vip'" in body["error"]["message"]

    status, out = await api.post(f"/api/contacts/{c['id']}/optout")
    assert status == 200
    assert out["opted_in"] is False
    assert [e.contact_ids for e in seen.of(ContactOptedOut)] == [(c["id"],)]
    status, back = await api.post(f"/api/contacts/{c['id']}/optin")
    assert status == 200
    assert back["opted_in"] is True  # an API opt-out may be reversed by the API

    status, gone = await api.delete(f"/api/contacts/{c['id']}")
    assert status == 200
    assert gone["status"] == "deleted"
    status, body = await api.post(f"/api/contacts/{c['id']}/tags", {"tags": ["x"]})
    assert status == 409
    assert "deleted" in body["error"]["message"]
    status, restored = await api.post("/api/contacts", {"phone": "+447911123456"})
    assert status == 200
    assert restored["status"] == "active"


async def test_a_contact_who_said_stop_cannot_be_resubscribed_by_the_api(api: Api, herald: Herald) -> None:
    _, c = await api.post("/api/contacts", {"phone": "+447911123456"})
    await herald.db(herald.contacts.set_opt_in, c["id"], False, by=API, source="keyword")
    before = _snapshot(herald)
    status, body = await api.post("/api/contacts", {"phone": "+447911123456", "opted_in": True})
    assert status == 409
    assert "START" in body["error"]["message"]
    status, _ = await api.post(f"/api/contacts/{c['id']}/optin")
    assert status == 409
    assert _snapshot(herald) == before


CSV = (
    "phone,name,tags,opted_in,city\n"
    "+447911123456,Bob,vip;new,yes,London\n"
    "not-a-phone,X,,,\n"
    "+14155552671,Cy,gold,maybe,\n"
    '"+91 98123 45678","Asha, the first",vip|gold,,Pune\n'
    "\n"
    "+447911123456,Robert,gold,,\n"
    "+4930123456,Dee,bad tag!,no,\n"
    "+4930123457,too,many,fields,here,x\n"
)


async def test_csv_import_reports_accepted_updated_and_rejected_lines(api: Api, herald: Herald) -> None:
    await api.post("/api/contacts", {"phone": "+919812345678", "name": "Old"})
    seen = Recorder(herald)
    status, report = await api.post(
        "/api/contacts/import", data=CSV.encode(), headers={"Content-Type": "text/csv"}
    )
    assert status == 200
    assert report["accepted"] == 1  # Bob is new
    assert report["updated"] == 2  # Asha existed; Bob's second row merges
    assert report["rejected_total"] == 4
    lines = {r["line"]: r["reason"] for r in report["rejected"]}
    assert set(lines) == {3, 4, 8, 9}
    assert "not a phone number" in lines[3]
    assert "opted_in is 'maybe'" in lines[4]
    assert "characters Herald does not accept" in lines[8]
    assert "6 fields" in lines[9]
    _, page = await api.get("/api/contacts")
    by_phone = {c["phone"]: c for c in page["contacts"]}
    assert by_phone["+447911123456"]["name"] == "Robert"
    assert by_phone["+447911123456"]["tags"] == ["gold", "new", "vip"]
    assert by_phone["+447911123456"]["attributes"] == {"city": "London"}
    assert by_phone["+919812345678"]["name"] == "Asha, the first"
    assert by_phone["+919812345678"]["tags"] == ["gold", "vip"]
    assert len(seen.of(ContactCreated)) == 1
    assert tag_link_orphans(herald) == []


async def test_csv_import_rejects_undecodable_lines_and_keeps_the_rest(api: Api) -> None:
    body = b"\xef\xbb\xbfphone,name\n+447911123456,Bob\n+447911123457,\xff\xfe bad\n"
    status, report = await api.post("/api/contacts/import", data=body, headers={"Content-Type": "text/csv"})
    assert status == 200
    assert report["accepted"] == 1
    assert report["rejected"] == [{"line": 3, "reason": "the line is not valid UTF-8 text."}]


async def test_csv_import_keeps_quotes_backslashes_and_braces_in_names_and_attributes(api: Api) -> None:
    odd = ['Ann "The Boss" O\'Neil', "back\\slash {x,y}", "NULL", "São Paulo ✓"]
    lines = ["phone,name,note"]
    for i, text in enumerate(odd):
        quoted = text.replace('"', '""')
        lines.append(f'+4479112345{i:02d},"{quoted}","{quoted}"')
    status, report = await api.post(
        "/api/contacts/import", data="\n".join(lines).encode(), headers={"Content-Type": "text/csv"}
    )
    assert status == 200
    assert report["accepted"] == len(odd)
    _, page = await api.get("/api/contacts")
    by_phone = {c["phone"]: c for c in page["contacts"]}
    for i, text in enumerate(odd):
        contact = by_phone[f"+4479112345{i:02d}"]
        assert contact["name"] == text
        assert contact["attributes"] == {"note": text}


def test_an_import_lists_the_first_rejects_in_line_order_and_counts_them_all(herald: Herald) -> None:
    herald.in_db(herald.contacts.upsert, ContactRow(phone="+447911000001"), by=API)
    contact_id = herald.in_db(lambda: Contact.get(Contact.phone == "+447911000001").id)
    herald.in_db(herald.contacts.delete, contact_id, by=API)
    lines = ["phone,name\n"]
    for i in range(2400):
        if i % 2:
            lines.append(f"not-a-number-{i},X\n")
        elif i % 10 == 4:
            lines.append("+447911000001,Deleted\n")  # refused by the writer, not the reader
        else:
            lines.append(f"+4479112{i:05d},P{i}\n")
    report = herald.in_db(Importer(herald.contacts, chunk_rows=7).run, lines, by=API)
    assert report.rejected_total == 1200 + 240
    assert report.accepted == 2400 - 1200 - 240
    assert report.updated == 0
    listed = [r["line"] for r in report.rejected]
    assert len(listed) == MAX_REPORTED
    expected = [i + 2 for i in range(2400) if i % 2 or i % 10 == 4][:MAX_REPORTED]
    assert listed == expected
    assert "was deleted" in report.rejected[2]["reason"]  # line 6: row 4
    assert tag_link_orphans(herald) == []


def test_an_error_while_reading_stops_the_import_where_it_was(herald: Herald) -> None:
    def lines() -> Iterator[str]:
        yield "phone\n"
        for i in range(10):
            yield f"+4479005{i:05d}\n"
        raise BodyTooLarge("the upload is larger than 10 bytes.", field="body")

    cache = (
        None
        if is_postgres(herald.database)
        else herald.in_db(lambda: herald.database.execute_sql("PRAGMA cache_size").fetchone())
    )
    with pytest.raises(BodyTooLarge):
        herald.in_db(Importer(herald.contacts, chunk_rows=4).run, lines(), by=API)
    assert gc.get_freeze_count() == 0  # the objects parked for the import's duration are handed back
    # the import's smaller SQLite page cache is given back (PostgreSQL has no such pragma)
    if not is_postgres(herald.database):
        assert herald.in_db(lambda: herald.database.execute_sql("PRAGMA cache_size").fetchone()) == cache
    stored = herald.in_db(lambda: Contact.select().where(Contact.phone.startswith("+4479005")).count())
    assert stored == 8  # two whole chunks; the two rows after them were never written


async def test_csv_without_a_phone_header_changes_nothing(api: Api, herald: Herald) -> None:
    before = _snapshot(herald)
    status, body = await api.post(
        "/api/contacts/import", data=b"+447911123456,Bob\n", headers={"Content-Type": "text/csv"}
    )
    assert status == 422
    assert "no phone column" in body["error"]["message"]
    assert "phone,name,tags,opted_in" in body["error"]["message"]
    assert _snapshot(herald) == before


@pytest.mark.parametrize(
    ("request_kwargs", "status", "code", "says"),
    [
        (
            {"headers": {"Authorization": "Bearer wrong"}, "json": {"phone": "+447911123456"}},
            401,
            "unauthorized",
            "bearer token",
        ),
        (
            {"headers": {"Authorization": ""}, "json": {"phone": "+447911123456"}},
            401,
            "unauthorized",
            "bearer token",
        ),
        ({"json": {"phone": "12345"}}, 422, "invalid", "country code"),
        (
            {"json": {"phone": "+447911123456", "colour": "red"}},
            422,
            "invalid",
            "unknown field 'colour'",
        ),
        ({"json": {"name": "No phone"}}, 422, "invalid", "needs a phone or a wa_user_id"),
        (
            {"json": {"phone": "+447911123456", "tags": ["ok", "no way!"]}},
            422,
            "invalid",
            "tag 'no way!'",
        ),
        ({"json": {"phone": "+447911123456", "opted_in": "maybe"}}, 422, "invalid", "opted_in"),
        (
            {"data": b'{"phone": "+4479', "headers": {"Content-Type": "application/json"}},
            400,
            "malformed_json",
            "not valid JSON",
        ),
        (
            {"data": b"\xff\xfe{}", "headers": {"Content-Type": "application/json"}},
            400,
            "malformed_json",
            "not valid JSON",
        ),
        (
            {"data": b"[1, 2]", "headers": {"Content-Type": "application/json"}},
            422,
            "invalid",
            "body",
        ),
        (
            {"data": b"x" * 2_000_000, "headers": {"Content-Type": "application/json"}},
            413,
            "body_too_large",
            "larger than",
        ),
        (
            {"data": b"<a/>", "headers": {"Content-Type": "application/xml"}},
            415,
            "unsupported_media_type",
            "JSON",
        ),
    ],
)
async def test_bad_requests_get_a_clear_4xx_and_change_nothing(  # noqa: PLR0917 - parametrized
    api: Api, herald: Herald, request_kwargs: dict[str, Any], status: int, code: str, says: str
) -> None:
    await api.post("/api/contacts", {"phone": "+447911123456", "name": "Bob", "tags": ["vip"]})
    before = _snapshot(herald)
    got, body = await api.post("/api/contacts", **request_kwargs)
    assert got == status
    assert body["error"]["code"] == code
    assert says in body["error"]["message"]
    assert set(body["error"]) == {"code", "message", "field"}
    assert _snapshot(herald) == before


async def test_the_api_refuses_everything_without_api_token(herald: Herald, aiohttp_client: Any) -> None:
    from bot.web.app import create_app

    herald.settings.api_token = None
    client = await aiohttp_client(create_app(herald))
    async with client.get("/api/contacts", headers={"Authorization": "Bearer anything"}) as response:
        assert response.status == 401
        body = await response.json()
    assert "API_TOKEN is not set" in body["error"]["message"]


async def test_unknown_routes_and_ids_answer_in_the_error_shape(api: Api) -> None:
    status, body = await api.get("/api/nothing-here")
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body = await api.get("/api/contacts/999")
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body = await api.get("/api/contacts/abc")
    assert (status, body["error"]["field"]) == (422, "id")
    status, body = await api.call("PUT", "/api/contacts")
    assert (status, body["error"]["code"]) == (405, "method_not_allowed")
    status, body = await api.get("/api/contacts?limit=0")
    assert (status, body["error"]["field"]) == (422, "limit")


async def test_health_and_metrics(api: Api) -> None:
    async with api.client.get("/healthz") as response:
        assert response.status == 200
        health = await response.json()
    assert health["database"] == "up"
    assert health["whatsapp"] == "sandbox"
    assert health["slack"] == "off"
    await api.get("/api/contacts")
    async with api.client.get("/metrics") as response:
        text = await response.text()
    assert 'herald_http_requests_total{method="GET",route="/api/contacts",status="200"}' in text


def test_a_phone_another_writer_inserted_since_the_lookup_is_skipped_not_an_error(herald: Herald) -> None:
    """insert_contacts tries a plain insert first; a phone that exists by then sends it to ON CONFLICT."""
    herald.in_db(herald.contacts.upsert, ContactRow(phone="+447911000001", name="First"), by=API)
    now = herald.clock.now()

    def insert() -> tuple[dict[str, int], list[tuple[str, str]]]:
        with herald.database.atomic():
            created = contact_store.insert_contacts(
                herald.database,
                [
                    ("+447911000001", "Again", True, {}, None, None),
                    ("+447911000002", "New", True, {"city": "Pune"}, None, None),
                ],
                now,
            )
            # the transaction carries on after the conflict: only the plain insert was rolled back
            rows = [(c.phone, c.name) for c in Contact.select().order_by(Contact.phone)]
        return created, rows

    created, rows = herald.in_db(insert)
    assert list(created) == ["+447911000002"]
    assert rows == [("+447911000001", "First"), ("+447911000002", "New")]
    assert herald.in_db(herald.contacts.find, "+447911000002")["attributes"] == {"city": "Pune"}
