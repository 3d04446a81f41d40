"""What Meta answers and sends back, built the way Meta builds it.

Shared by the in-process sandbox and the HTTP fake in the tests, so both
speak exactly the format ``engine.whatsapp.webhook`` parses: wamids, Graph
error envelopes, status and inbound message objects, webhook envelopes, and
the template checks Meta makes at send time (unknown or unapproved template
→ 132001, wrong parameter count → 132000, bad parameter text → 132018).
"""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.whatsapp.errors import TITLES

ERROR_HREF = "/documentation/business-messaging/whatsapp/support/error-codes"

# Meta's own wording for the codes that arrive on failed statuses.
META_ERRORS: dict[int, tuple[str, str]] = {
    131026: (
        "Message undeliverable.",
        "Unable to deliver message. Reasons can include: the recipient phone number is not a "
        "WhatsApp phone number; the recipient has not accepted the new Terms of Service; "
        "the recipient is using an old WhatsApp version.",
    ),
    131049: (
        "This message was not delivered to maintain healthy ecosystem engagement.",
        "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
    ),
    131050: (
        "Unable to deliver the marketing message.",
        "This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.",
    ),
    131047: (
        "Re-engagement message.",
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number.",
    ),
    132015: ("Template is paused.", "The template has been paused due to low quality."),
}

_TEXT_TROUBLE = re.compile(r"[\n\t]| {5,}")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why Meta refuses a send at once: a Graph error ``code`` and its message."""

    code: int
    message: str
    http_status: int = 400


def new_wamid(phone: str, rng: random.Random) -> str:
    """A wamid shaped like Meta's: base64 of a small record holding the recipient's digits."""
    digits = phone.lstrip("+").encode()
    token = f"{rng.getrandbits(72):018X}".encode()
    record = b"\x1c\x18" + bytes([len(digits)]) + digits + b"\x15\x02\x00\x11\x18\x12"
    return "wamid." + base64.b64encode(record + token + b"\x00").decode()


def error_object(code: int) -> dict[str, Any]:
    """One ``errors[]`` entry of a failed status, as Meta sends it."""
    title, details = META_ERRORS.get(code, (TITLES.get(code, "Unknown error"), ""))
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details or title},
        "href": ERROR_HREF,
    }


def graph_error(
    code: int, message: str | None = None, details: str | None = None, *, fbtrace_id: str = ""
) -> dict[str, Any]:
    """A Graph error envelope, as the Cloud API answers a refused request."""
    title = message or META_ERRORS.get(code, (TITLES.get(code, "Unknown error"), ""))[0]
    return {
        "error": {
            "message": f"(#{code}) {title}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details or title},
            "fbtrace_id": fbtrace_id or "AbCdEfGhIjKlMnOpQrStUvW",
        }
    }


def status_object(
    wamid: str,
    status: str,
    at: datetime,
    recipient: str,
    *,
    callback: str | None = None,
    code: int | None = None,
    category: str | None = None,
) -> dict[str, Any]:
    """One ``statuses[]`` entry. ``recipient`` may carry a ``+``; Meta sends digits only. A
    business-scoped user id (a send to a username user) comes as ``recipient_user_id``."""
    item: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(int(at.timestamp()))}
    if "." in recipient:
        item["recipient_user_id"] = recipient
    else:
        item["recipient_id"] = recipient.lstrip("+")
    if callback:
        item["biz_opaque_callback_data"] = callback
    if status == "sent" and category:
        item["pricing"] = {
            "billable": True,
            "pricing_model": "PMP",
            "type": "regular",
            "category": category.lower(),
        }
    if status == "failed":
        item["errors"] = [error_object(code if code is not None else 131000)]
    return item


def inbound_object(
    wamid: str,
    phone: str,
    at: datetime,
    *,
    text: str = "",
    button_payload: str | None = None,
    context: str | None = None,
) -> dict[str, Any]:
    """One ``messages[]`` entry: a text, or a quick-reply tap when ``button_payload`` is set."""
    item: dict[str, Any] = {
        "from": phone.lstrip("+"),
        "id": wamid,
        "timestamp": str(int(at.timestamp())),
    }
    if context:
        item["context"] = {"from": "15550001234", "id": context}
    if button_payload is not None:
        item["type"] = "button"
        item["button"] = {"payload": button_payload, "text": text}
    else:
        item["type"] = "text"
        item["text"] = {"body": text}
    return item


def webhook(
    field: str, value: Mapping[str, Any], *, business_account_id: str, time: datetime | None = None
) -> dict[str, Any]:
    """The envelope Meta posts: one entry, one change."""
    entry: dict[str, Any] = {
        "id": business_account_id,
        "changes": [{"field": field, "value": value}],
    }
    if time is not None:
        entry["time"] = int(time.timestamp())
    return {"object": "whatsapp_business_account", "entry": [entry]}


def messages_value(
    *,
    phone_number_id: str,
    display_phone_number: str,
    statuses: Sequence[Mapping[str, Any]] = (),
    messages: Sequence[Mapping[str, Any]] = (),
    contacts: Iterable[tuple[str, str]] = (),
) -> dict[str, Any]:
    """The ``value`` of a ``messages`` change; ``contacts`` are (phone, profile name) pairs."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": display_phone_number,
            "phone_number_id": phone_number_id,
        },
    }
    people = [{"profile": {"name": n}, "wa_id": p.lstrip("+")} for p, n in contacts]
    if people:
        value["contacts"] = people
    if statuses:
        value["statuses"] = list(statuses)
    if messages:
        value["messages"] = list(messages)
    return value


class Catalogue:
    """Templates by (name, language), with the send-time checks Meta makes against them."""

    def __init__(self, templates: Iterable[Mapping[str, Any]]) -> None:
        self.templates = [dict(t) for t in templates]
        self._by_key = {(t["name"], t["language"]): t for t in self.templates}
        self._expected = {key: _expected(t) for key, t in self._by_key.items()}

    def get(self, name: str, language: str) -> Mapping[str, Any] | None:
        return self._by_key.get((name, language))

    def check(self, template: Any) -> Refusal | None:
        """Why Meta would refuse this ``template`` object of a send, or None."""
        name = template.get("name") if isinstance(template, dict) else None
        language = template.get("language") if isinstance(template, dict) else None
        code = language.get("code") if isinstance(language, dict) else None
        if not isinstance(name, str) or not name or not isinstance(code, str) or not code:
            what = "template.name" if not isinstance(name, str) or not name else "template.language.code"
            return Refusal(131008, f"The parameter {what} is required.")
        assert isinstance(template, dict)
        found = self._by_key.get((name, code))
        if found is None:
            return Refusal(132001, f"Template name ({name}) does not exist in {code}")
        status = str(found.get("status", "")).upper()
        if status == "PAUSED":
            return Refusal(132015, "Template is paused")
        if status == "DISABLED":
            return Refusal(132016, "Template is disabled")
        if status != "APPROVED":
            return Refusal(132001, f"Template name ({name}) is not approved in {code}")
        return _check_components(template.get("components", []), *self._expected[(name, code)])


def _expected(template: Mapping[str, Any]) -> tuple[dict[tuple[str, int], list[str]], bool]:
    """Parameter names per (component, button index), and whether the template is NAMED.

    Meta counts each distinct placeholder of a header, the body and each URL
    button; a media header takes one media parameter, which Herald never sends.
    """
    slots: dict[tuple[str, int], list[str]] = {}
    for component in template.get("components") or []:
        kind = str(component.get("type", "")).lower()
        texts: list[tuple[str, int, str]] = []
        if kind == "header" and str(component.get("format", "TEXT")).upper() == "TEXT":
            texts.append(("header", 0, component.get("text") or ""))
        elif kind == "header":
            slots[("header", 0)] = ["media"]
        elif kind == "body":
            texts.append(("body", 0, component.get("text") or ""))
        elif kind == "buttons":
            for index, button in enumerate(component.get("buttons") or []):
                if str(button.get("type", "")).upper() == "URL":
                    texts.append(("button", index, button.get("url") or ""))
        for where, index, text in texts:
            names = list(dict.fromkeys(_PLACEHOLDER.findall(text)))
            if names:
                slots[(where, index)] = names
    return slots, str(template.get("parameter_format", "")).upper() == "NAMED"


def _check_components(
    components: Any, expected: dict[tuple[str, int], list[str]], named: bool
) -> Refusal | None:
    if not isinstance(components, list):
        return Refusal(100, "Invalid parameter: template.components must be a list.")
    given: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for component in components:
        if not isinstance(component, dict) or not isinstance(component.get("parameters"), list):
            return Refusal(100, "Invalid parameter: a component needs a parameters list.")
        kind = str(component.get("type", "")).lower()
        if kind not in ("header", "body", "button"):
            return Refusal(100, f"Invalid parameter: component type {kind!r}.")
        index = int(component.get("index", 0)) if kind == "button" else 0
        given.setdefault((kind, index), []).extend(component["parameters"])
    for key in set(expected) | set(given):
        wanted, parameters = expected.get(key, []), given.get(key, [])
        if len(wanted) != len(parameters):
            return Refusal(
                132000,
                f"Number of parameters does not match the expected number of params "
                f"({key[0]}: expected {len(wanted)}, received {len(parameters)})",
            )
        for parameter in parameters:
            refusal = _check_parameter(parameter, wanted if named and key[0] != "button" else None)
            if refusal:
                return refusal
    return None


def _check_parameter(parameter: Any, names: list[str] | None) -> Refusal | None:
    if not isinstance(parameter, dict) or parameter.get("type") != "text":
        return Refusal(100, "Invalid parameter: only text parameters are accepted here.")
    text = parameter.get("text")
    if not isinstance(text, str) or not text.strip():
        return Refusal(131008, "Parameter of type text is missing text value")
    if _TEXT_TROUBLE.search(text):
        return Refusal(
            132018,
            "Param text cannot have new-line/tab characters or more than 4 consecutive spaces",
        )
    if names is not None and parameter.get("parameter_name") not in names:
        return Refusal(132018, f"Unknown parameter_name {parameter.get('parameter_name')!r}")
    return None
