"""The REST API keeps the contract of its own OpenAPI document, checked by schemathesis over real HTTP.

Herald runs on a real port (a thread with its own event loop) on SQLite and on
PostgreSQL, with a few contacts, the sandbox's templates, a broadcast and a
sequence in it, so generated ids find something. For every documented
operation schemathesis sends the documented examples, the coverage phase's
boundary and negative values, and generated requests (valid and invalid:
huge integers, wrong types, NUL bytes, unknown fields), with the bearer
token. Every answer must be documented (status, content type, body schema:
the whole view, key for key, as the document is generated from the typed
views), never a 5xx, and every 4xx carries the one error shape. Without the token,
every operation is refused with 401 in that shape.

Seeded and derandomized, so a failure reproduces; about 25 generated cases
per operation and engine.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from typing import Any

import peewee
import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from pydantic import TypeAdapter

from bot.container import Herald, build
from bot.web.app import create_app
from bot.web.openapi import OPERATIONS, Operation, document
from engine.clock import ManualClock
from tests.conftest import API_TOKEN, START, _truncate_pg, make_settings

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
MAX_EXAMPLES = 25
SEED = 20261130

# Mixed into generated values of each type, wherever the document has one: what broke Herald before.
ODD_VALUES: dict[str, list[Any]] = {
    "string": [
        "\x00",
        "Ada\x00Lovelace",
        "99999999999999999999999",  # digits: an id too large for any integer column
        "9223372036854775808",
        "²",  # str.isdigit() is true, int() refuses it
        "٣",
        "-1",
        "   ",
        "%00",
        "é\u202e\U0001f600",
        "x" * 300,
    ],
    "integer": [0, -1, 2**63 - 1, 2**63, 10**30, -(2**63) - 1],
    "number": [1e308, -1e308, 10**30, 5e-324, -0.0],
}
BODY_FIELDS = [
    *("phone", "name", "tags[*]", "template", "language", "schedule", "timezone", "params[*]"),
    *("sequence", "contact", "trigger.tag", "steps[*].id", "steps[*].template", "steps[*].days"),
    *("steps[*].hours", "steps[*].minutes", "steps[*].next", "steps[*].if.has_tag"),
]


def _config(*, coverage: bool) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "allow-x00": True,
                "dictionaries": {
                    kind: {"dictionary": f"odd-{kind}", "probability": 0.25} for kind in ODD_VALUES
                },
            },
            "dictionaries": {
                **{f"odd-{kind}": {"values": values} for kind, values in ODD_VALUES.items()},
                "odd-any": {"values": [v for values in ODD_VALUES.values() for v in values]},
            },
            # Type-wide dictionaries reach parameters; bodies are reached field by field.
            "parameters": {
                f"body.{field}": {"dictionary": "odd-any", "probability": 0.25} for field in BODY_FIELDS
            },
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": coverage},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "request-timeout": 30,
            "auth": {"openapi": {"bearer": {"bearer": API_TOKEN}}},
            "output": {"sanitization": {"enabled": False}},  # the checks read the Authorization sent
        }
    )


CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.negative_data_rejection,  # what the document forbids is refused
    schemathesis.checks.missing_required_header,
    schemathesis.checks.unsupported_method,  # an undocumented method: 405 with Allow
    schemathesis.checks.allow_header_conformance,
    schemathesis.checks.ignored_auth,  # the same request without (or with a wrong) token: 401
]
# A literal path that a templated one also matches: GET /api/sequences/enroll is the sequence
# named "enroll", so its Allow header rightly lists the methods of /api/sequences/{ref} too.
SHADOWED = {"/api/sequences/enroll"}
SHADOWED_CHECKS = {schemathesis.checks.unsupported_method, schemathesis.checks.allow_header_conformance}


class Served:
    """Herald's app behind a real socket, on a thread of its own."""

    def __init__(self, herald: Herald) -> None:
        self.herald = herald
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="contract-server", daemon=True)
        self.runner: web.AppRunner | None = None
        self.url = ""
        self.http = requests.Session()

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=30)

    async def _start(self) -> None:
        self.runner = web.AppRunner(create_app(self.herald), handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.http.close()
        if self.runner is not None:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()


def _seed(url: str) -> None:
    """Something for generated ids and names to find: contacts, templates, a broadcast, a sequence."""
    with requests.Session() as http:
        http.headers.update(AUTH)

        def post(path: str, body: Any = None) -> Any:
            response = http.post(url + path, json=body, timeout=30)
            assert response.status_code in (200, 201), (path, response.text)
            return response.json()

        for n in range(1, 6):
            post("/api/contacts", {"phone": f"+1415555{n:04d}", "name": f"Ada {n}", "tags": ["vip", "new"]})
        post("/api/templates/sync")
        post(
            "/api/broadcasts",
            {"template": "welcome_offer", "tags": ["vip"], "schedule": "draft", "name": "launch"},
        )
        sequence = post(
            "/api/sequences",
            {
                "name": "onboarding",
                "trigger": {"type": "tag_added", "tag": "new"},
                "steps": [{"id": "welcome", "type": "message", "template": "welcome_offer"}],
            },
        )
        post(f"/api/sequences/{sequence['id']}/activate")


def _serve(database_url: str) -> Iterator[Served]:
    herald = build(make_settings(database_url), clock=ManualClock(START), direct_only=True)
    server = Served(herald)
    server.start()
    try:
        _seed(server.url)
        yield server
    finally:
        server.stop()
        herald.close()
        if isinstance(herald.database, peewee.PostgresqlDatabase):
            herald.database.close_all()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def on_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from _serve(f"sqlite:///{tmp_path_factory.mktemp('contract') / 'herald.db'}")


@pytest.fixture(scope="module")
def on_postgres(pg_url: str) -> Iterator[Served]:
    _truncate_pg(pg_url)
    yield from _serve(pg_url)


# SQLite gets every phase (the documented examples, the coverage phase's boundary and negative
# values, generated cases); PostgreSQL, where storage differs, gets the generated cases.
schema = schemathesis.openapi.from_dict(document(), config=_config(coverage=True))
schema_pg = schemathesis.openapi.from_dict(document(), config=_config(coverage=False))
HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _error_shape(status: int, body: Any) -> None:
    assert isinstance(body, dict), f"{status}: the body is not a JSON object: {body!r}"
    assert set(body) == {"error"}, f"{status}: top-level keys {sorted(body)}"
    error = body["error"]
    assert isinstance(error, dict), f"{status}: error is not an object: {error!r}"
    assert set(error) == {"code", "message", "field"}, f"{status}: error keys {sorted(error)}"
    assert isinstance(error["code"], str), f"{status}: code {error['code']!r}"
    assert re.fullmatch(r"[a-z_]+", error["code"]), f"{status}: code {error['code']!r}"
    assert isinstance(error["message"], str), f"{status}: message {error['message']!r}"
    assert error["message"].strip(), f"{status}: an empty message"
    assert error["field"] is None or isinstance(error["field"], str), f"{status}: field {error['field']!r}"


@schemathesis.check
def four_xx_has_the_error_shape(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> None:
    if 400 <= response.status_code < 500:
        _error_shape(response.status_code, response.json())


@schemathesis.check
def bearer_token_decides(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """With the token nothing is refused for want of it; without it (negative cases drop it) all is."""
    sent = response.request.headers.get("Authorization")
    if sent == AUTH["Authorization"]:
        assert response.status_code != 401, response.text
    else:
        assert response.status_code == 401, (sent, response.status_code, response.text)
        assert response.json()["error"]["code"] == "unauthorized"


def _keeps_the_contract(case: schemathesis.Case, served: Served) -> None:
    response = case.call(base_url=served.url, session=served.http)
    checks = CHECKS if case.path not in SHADOWED else [c for c in CHECKS if c not in SHADOWED_CHECKS]
    case.validate_response(
        response,
        checks=[*checks, four_xx_has_the_error_shape, bearer_token_decides],
        transport_kwargs={"base_url": served.url, "session": served.http},
    )


@schema.parametrize()
@HYPOTHESIS
def test_every_operation_keeps_the_documented_contract_on_sqlite(
    case: schemathesis.Case, on_sqlite: Served
) -> None:
    _keeps_the_contract(case, on_sqlite)


@schema_pg.parametrize()
@HYPOTHESIS
def test_every_operation_keeps_the_documented_contract_on_postgres(
    case: schemathesis.Case, on_postgres: Served
) -> None:
    _keeps_the_contract(case, on_postgres)


def _concrete(path: str) -> str:
    return path.replace("{id}", "1").replace("{ref}", "1").replace("{tag}", "vip")


def test_without_the_token_every_operation_is_refused_with_401(on_sqlite: Served) -> None:
    served = on_sqlite
    paths = document()["paths"]
    operations = [(method, path) for path, item in paths.items() for method in item]
    assert len(operations) > 25
    wrong = {"Authorization": "Bearer not-the-token"}
    for headers in ({}, wrong, {"Authorization": API_TOKEN}):  # missing, wrong, and without the scheme
        for method, path in operations:
            response = requests.request(
                method.upper(), served.url + _concrete(path), headers=headers, json={}, timeout=30
            )
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.headers["Content-Type"].startswith("application/json")
            _error_shape(401, response.json())
            assert response.json()["error"]["code"] == "unauthorized"


def test_the_document_declares_bearer_auth_on_every_operation() -> None:
    doc = document()
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert doc["security"] == [{"bearer": []}]
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            assert "401" in operation["responses"], (method, path)
            assert operation.get("security", doc["security"]), (method, path)


def test_the_served_document_is_the_one_tested(on_sqlite: Served) -> None:
    response = on_sqlite.http.get(f"{on_sqlite.url}/api/openapi.json", headers=AUTH, timeout=30)
    assert response.status_code == 200
    assert response.json() == document()


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
def test_every_operation_has_an_example_of_its_answer_and_of_its_body(op: Operation) -> None:
    TypeAdapter(op.answer).validate_python(op.example)  # extra keys and missing ones are refused
    if op.body is not None:
        TypeAdapter(op.body).validate_python(op.body_example)


def test_the_broadcast_answer_is_documented_key_for_key(on_sqlite: Served) -> None:
    response = on_sqlite.http.get(f"{on_sqlite.url}/api/broadcasts/1", headers=AUTH, timeout=30)
    assert response.status_code == 200
    schema = document()["components"]["schemas"]["Broadcast"]
    assert set(response.json()) == set(schema["required"]) == set(schema["properties"])
    assert schema["additionalProperties"] is False
