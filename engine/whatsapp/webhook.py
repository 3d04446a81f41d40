"""Meta webhook deliveries: the signature check and the parse into typed events.

Pure functions over bytes; the HTTP route that receives them lives in the
faces. A body is ``{"object": "whatsapp_business_account", "entry": [{"id",
"changes": [{"field", "value"}]}]}``; one body may batch up to 1,000 updates
(Meta: "batching cannot be guaranteed"), so every ``entry``, ``change``,
``status`` and ``message`` is read.

Fields understood:

- ``messages``: ``value.statuses[]`` → StatusEvent, ``value.messages[]`` →
  InboundEvent, ``value.errors[]`` → SystemErrorEvent;
- ``message_template_status_update`` → TemplateStatusEvent;
- ``user_preferences`` → MarketingPreferenceEvent;
- anything else → UnknownEvent, for a debug log line.

Statuses come duplicated, out of order, and ``read`` may come with no
``delivered`` before it; ordering them is the caller's job, this module only
reads them. Malformed structure raises MalformedWebhook naming the path.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

import orjson

from engine.whatsapp.errors import MalformedWebhook, describe_failure

__all__ = [
    "SIGNATURE_HEADER",
    "Event",
    "InboundEvent",
    "MarketingPreferenceEvent",
    "StatusError",
    "StatusEvent",
    "SystemErrorEvent",
    "TemplateStatusEvent",
    "UnknownEvent",
    "describe_failure",
    "parse",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Hub-Signature-256"
OBJECT = "whatsapp_business_account"
STATUSES = frozenset({"sent", "delivered", "read", "failed"})
_PREFIX = "sha256="

Status = Literal["sent", "delivered", "read", "failed"]
InboundKind = Literal["text", "button", "interactive", "other"]


class StatusError(NamedTuple):
    """One entry of a failed status's ``errors[]``: ``(code, title, details)``."""

    code: int
    title: str
    details: str

    @property
    def reason(self) -> str:
        """The funnel's name for it: ``"131026 Message undeliverable"``."""
        return describe_failure(self.code, self.title)


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """The lifecycle of a message Herald sent. ``at`` is aware UTC; ``recipient`` E.164."""

    wamid: str
    status: Status
    at: datetime
    recipient: str
    callback: str | None
    errors: tuple[StatusError, ...] = ()
    phone_number_id: str | None = None


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """A message a user sent. ``text`` is the body, the button's text or the reply's title;
    ``payload`` the button payload or the reply id; ``context`` the wamid replied to."""

    wamid: str
    phone: str
    kind: InboundKind
    text: str
    at: datetime
    name: str | None = None
    payload: str | None = None
    context: str | None = None
    phone_number_id: str | None = None


@dataclass(frozen=True, slots=True)
class TemplateStatusEvent:
    """A template changed status (APPROVED, PAUSED, REJECTED…), upper-cased."""

    name: str
    language: str
    status: str
    reason: str | None
    meta_id: str | None


@dataclass(frozen=True, slots=True)
class MarketingPreferenceEvent:
    """The user stopped or resumed marketing messages in WhatsApp's settings."""

    phone: str
    value: Literal["stop", "resume"]
    at: datetime


@dataclass(frozen=True, slots=True)
class SystemErrorEvent:
    """App- or account-level errors Meta reports outside any one message."""

    errors: tuple[StatusError, ...]


@dataclass(frozen=True, slots=True)
class UnknownEvent:
    """A field Herald does not handle (or a status it does not track, like ``played``)."""

    field: str
    detail: str = ""


Event = (
    StatusEvent
    | InboundEvent
    | TemplateStatusEvent
    | MarketingPreferenceEvent
    | SystemErrorEvent
    | UnknownEvent
)


def sign(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends for ``body``: ``sha256=<hex>``."""
    return _PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, app_secret: str) -> bool:
    """True when ``header`` is Meta's HMAC-SHA256 of the RAW ``body`` keyed by ``app_secret``.

    A missing or malformed header, or an empty secret, is False: an
    unconfigured secret must not make every body look genuine.
    """
    if not header or not app_secret or not header.startswith(_PREFIX):
        return False
    given = header[len(_PREFIX) :].strip().lower()
    if len(given) != 64:
        return False
    return hmac.compare_digest(sign(body, app_secret)[len(_PREFIX) :], given)


def parse(body: bytes | str) -> list[Event]:
    """Every event in one webhook body, in body order. Raises MalformedWebhook."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedWebhook(f"the webhook body is not JSON ({exc}).") from exc
    root = _dict(document, "body")
    if root.get("object") != OBJECT:
        raise MalformedWebhook(f"object is {root.get('object')!r}, not {OBJECT!r}.")
    events: list[Event] = []
    for i, raw_entry in enumerate(_list(root.get("entry"), "entry")):
        entry = _dict(raw_entry, f"entry[{i}]")
        for j, change in enumerate(_list(entry.get("changes"), f"entry[{i}].changes")):
            where = f"entry[{i}].changes[{j}]"
            _change(_dict(change, where), where, events)
    return events


def _change(change: dict[str, Any], where: str, events: list[Event]) -> None:
    field = change.get("field")
    if not isinstance(field, str):
        raise MalformedWebhook(f"{where}.field is missing.")
    value = _dict(change.get("value"), f"{where}.value")
    where = f"{where}.value"
    if field == "messages":
        _messages(value, where, events)
    elif field == "message_template_status_update":
        events.append(_template_status(value, where))
    elif field == "user_preferences":
        items = _list(value.get("user_preferences", []), f"{where}.user_preferences")
        for k, item in enumerate(items):
            path = f"{where}.user_preferences[{k}]"
            events.append(_preference(_dict(item, path), path))
    else:
        events.append(UnknownEvent(field))


def _messages(value: dict[str, Any], where: str, events: list[Event]) -> None:
    metadata = value.get("metadata")
    number_id = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
    number_id = str(number_id) if number_id is not None else None
    for k, item in enumerate(_list(value.get("statuses", []), f"{where}.statuses")):
        path = f"{where}.statuses[{k}]"
        events.append(_status(_dict(item, path), path, number_id))
    if "messages" in value:
        names = _contact_names(value.get("contacts"))
        for k, item in enumerate(_list(value["messages"], f"{where}.messages")):
            path = f"{where}.messages[{k}]"
            events.append(_inbound(_dict(item, path), path, names, number_id))
    if "errors" in value:
        events.append(SystemErrorEvent(_errors(value["errors"], f"{where}.errors")))


def _status(item: dict[str, Any], where: str, number_id: str | None) -> StatusEvent | UnknownEvent:
    status = item.get("status")
    if status not in STATUSES:
        if isinstance(status, str):
            return UnknownEvent("messages", f"status {status}")
        raise MalformedWebhook(f"{where}.status is missing.")
    callback = item.get("biz_opaque_callback_data")
    return StatusEvent(
        wamid=_str(item, "id", where),
        status=status,
        at=_time(item.get("timestamp"), f"{where}.timestamp"),
        recipient=_phone(_str(item, "recipient_id", where), f"{where}.recipient_id"),
        callback=callback if isinstance(callback, str) and callback else None,
        errors=_errors(item.get("errors", []), f"{where}.errors"),
        phone_number_id=number_id,
    )


def _inbound(item: dict[str, Any], where: str, names: dict[str, str], number_id: str | None) -> InboundEvent:
    sender = _str(item, "from", where)
    raw_type = item.get("type")
    kind: InboundKind = "other"
    text, payload = "", None
    if raw_type == "text":
        kind = "text"
        text = str(_dict(item.get("text"), f"{where}.text").get("body") or "")
    elif raw_type == "button":
        kind = "button"
        button = _dict(item.get("button"), f"{where}.button")
        text = str(button.get("text") or button.get("payload") or "")
        payload = _optional_str(button.get("payload"))
    elif raw_type == "interactive":
        interactive = _dict(item.get("interactive"), f"{where}.interactive")
        reply = interactive.get("button_reply") or interactive.get("list_reply")
        # A Flow reply (nfm_reply), or a reply type newer than this parser, stays "other".
        if isinstance(reply, dict):
            kind = "interactive"
            text = str(reply.get("title") or "")
            payload = _optional_str(reply.get("id"))
    elif isinstance(raw_type, str) and isinstance(item.get(raw_type), dict):
        text = str(item[raw_type].get("caption") or "")
    context = item.get("context")
    return InboundEvent(
        wamid=_str(item, "id", where),
        phone=_phone(sender, f"{where}.from"),
        kind=kind,
        text=text,
        at=_time(item.get("timestamp"), f"{where}.timestamp"),
        name=names.get(sender.lstrip("+")),
        payload=payload,
        context=_optional_str(context.get("id")) if isinstance(context, dict) else None,
        phone_number_id=number_id,
    )


def _template_status(value: dict[str, Any], where: str) -> TemplateStatusEvent:
    meta_id = value.get("message_template_id")
    reason = value.get("reason")
    return TemplateStatusEvent(
        name=_str(value, "message_template_name", where),
        language=_str(value, "message_template_language", where),
        # The pacing docs spell the event in lower case ("paused").
        status=_str(value, "event", where).upper(),
        reason=str(reason) if reason not in (None, "", "NONE") else None,
        # An integer in the webhook, a string in the template list.
        meta_id=str(meta_id) if meta_id is not None else None,
    )


def _preference(item: dict[str, Any], where: str) -> MarketingPreferenceEvent | UnknownEvent:
    category = item.get("category", "marketing_messages")
    value = item.get("value")
    if category != "marketing_messages" or value not in ("stop", "resume"):
        return UnknownEvent("user_preferences", f"{category} {value}")
    return MarketingPreferenceEvent(
        phone=_phone(_str(item, "wa_id", where), f"{where}.wa_id"),
        value=value,
        at=_time(item.get("timestamp"), f"{where}.timestamp"),
    )


def _errors(raw: Any, where: str) -> tuple[StatusError, ...]:
    found = []
    for k, item in enumerate(_list(raw, where)):
        error = _dict(item, f"{where}[{k}]")
        code = error.get("code")
        if isinstance(code, str) and code.isdigit():
            code = int(code)
        if not isinstance(code, int) or isinstance(code, bool):
            raise MalformedWebhook(f"{where}[{k}].code is not a number.")
        data = error.get("error_data")
        # error_data is an object for message errors but a bare string for template ones.
        details = data.get("details") if isinstance(data, dict) else data
        title = error.get("title") or error.get("message") or ""
        found.append(StatusError(code, str(title), str(details or "")))
    return tuple(found)


def _contact_names(contacts: Any) -> dict[str, str]:
    names: dict[str, str] = {}
    if isinstance(contacts, list):
        for contact in contacts:
            if isinstance(contact, dict) and isinstance(contact.get("profile"), dict):
                name = contact["profile"].get("name")
                if isinstance(name, str) and contact.get("wa_id"):
                    names[str(contact["wa_id"]).lstrip("+")] = name
    return names


def _time(raw: Any, where: str) -> datetime:
    # Meta sends Unix seconds as a string in messages webhooks, an int elsewhere.
    try:
        return datetime.fromtimestamp(int(raw), UTC)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise MalformedWebhook(f"{where} is not a Unix time ({raw!r}).") from exc


def _phone(wa_id: str, where: str) -> str:
    digits = wa_id.strip().lstrip("+")
    if not digits.isdigit():
        raise MalformedWebhook(f"{where} is not a phone number.")
    return "+" + digits


def _str(item: dict[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value:
        raise MalformedWebhook(f"{where}.{key} is missing.")
    return value


def _optional_str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedWebhook(f"{where} is not an object.")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedWebhook(f"{where} is not a list.")
    return value
