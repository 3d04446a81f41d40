"""Meta webhook deliveries: the signature check and the parse into typed events.

Pure functions over bytes; the HTTP route that receives them lives in the
faces. A body is ``{"object": "whatsapp_business_account", "entry": [{"id",
"changes": [{"field", "value"}]}]}``; one body may batch up to 1,000 updates
(Meta: "batching cannot be guaranteed"), so every ``entry``, ``change``,
``status`` and ``message`` is read, each on its own.

Tolerant by contract (DESIGN §9.1): only a body that is not JSON, or not a
WhatsApp Business Account notification, raises MalformedWebhook (the route
answers 400). Anything inside that Herald does not understand, or that is
malformed, becomes an ``Ignored`` event with a short reason, and its
neighbours are read as usual: a 4xx would make Meta redeliver the whole
batch for days, and every status in it would wait.

Fields understood:

- ``messages``: ``statuses[]`` → StatusEvent (with ``pricing``),
  ``messages[]`` → InboundEvent (username users included: ``from`` empty,
  ``from_user_id`` set), ``system`` messages → IdentityChange,
  ``contacts[]`` naming a phone and a user id → UserIdentity,
  ``errors[]`` → SystemErrorEvent;
- ``message_template_status_update``, ``template_category_update``,
  ``message_template_quality_update`` → Template*Event;
- ``business_capability_update`` and ``phone_number_quality_update`` →
  MessagingLimitEvent / NumberQualityEvent; ``account_update`` → AccountEvent;
- ``user_preferences`` → MarketingPreferenceEvent.

Text no database can store (NUL) is removed from every string, the same on
every engine. Statuses come duplicated, out of order, and ``read`` may come
with no ``delivered`` before it; ordering them is the caller's job.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

import orjson

from engine.whatsapp.errors import MalformedWebhook, describe_failure
from engine.whatsapp.events import (
    AccountEvent,
    Event,
    IdentityChange,
    Ignored,
    InboundEvent,
    InboundKind,
    MarketingPreferenceEvent,
    MessagingLimitEvent,
    NumberQualityEvent,
    Pricing,
    Status,
    StatusError,
    StatusEvent,
    SystemErrorEvent,
    TemplateCategoryEvent,
    TemplateQualityEvent,
    TemplateStatusEvent,
    UserIdentity,
)

__all__ = [
    "SIGNATURE_HEADER",
    "AccountEvent",
    "Event",
    "IdentityChange",
    "Ignored",
    "InboundEvent",
    "MarketingPreferenceEvent",
    "MessagingLimitEvent",
    "NumberQualityEvent",
    "Pricing",
    "Status",
    "StatusError",
    "StatusEvent",
    "SystemErrorEvent",
    "TemplateCategoryEvent",
    "TemplateQualityEvent",
    "TemplateStatusEvent",
    "UserIdentity",
    "describe_failure",
    "limit_of",
    "parse",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Hub-Signature-256"
OBJECT = "whatsapp_business_account"
STATUSES = frozenset({"sent", "delivered", "read", "failed"})
_PREFIX = "sha256="
_MAX_CODE = 2**31 - 1  # error codes are stored as 32-bit integers


class _Skip(Exception):
    """Internal: this one item is ignored, with the reason."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


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


def parse(body: bytes | str, *, phone_number_id: str | None = None) -> list[Event]:
    """Every event in one webhook body, in body order.

    Raises MalformedWebhook only when the body is not JSON or not a WhatsApp
    Business Account notification. With ``phone_number_id``, ``messages``
    and ``user_preferences`` changes addressed to another business number
    (another number of the same Meta app) become one ``Ignored`` each.
    """
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedWebhook(f"the webhook body is not JSON ({exc}).") from exc
    if not isinstance(document, dict):
        raise MalformedWebhook("the webhook body is not an object.")
    if document.get("object") != OBJECT:
        raise MalformedWebhook(f"object is {document.get('object')!r}, not {OBJECT!r}.")
    raw = body.encode() if isinstance(body, str) else body
    if b"\\u0000" in raw:
        document = _without_nul(document)
    events: list[Event] = []
    entries = document.get("entry")
    if not isinstance(entries, list):
        return [Ignored("entry is not a list", "", "entry")]
    for i, entry in enumerate(entries):
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            events.append(Ignored("entry without changes", "", f"entry[{i}]"))
            continue
        at = _optional_time(entry.get("time"))
        for j, change in enumerate(changes):
            where = f"entry[{i}].changes[{j}]"
            _one(events, "", where, _change, change, where, at, events, phone_number_id)
    return events


def _one(events: list[Event], field: str, where: str, read: Callable[..., Event | None], *args: Any) -> None:
    """Read one item (``read(*args)``); a malformed or unknown one becomes ``Ignored`` and the
    rest go on."""
    try:
        event = read(*args)
    except _Skip as skip:
        events.append(Ignored(skip.reason, field, skip.detail or where))
        return
    except (TypeError, ValueError, AttributeError, KeyError) as exc:  # a shape no rule above foresaw
        events.append(Ignored(f"unreadable item ({type(exc).__name__})", field, where))
        return
    if event is not None:
        events.append(event)


def _change(
    change: Any, where: str, at: datetime | None, events: list[Event], number_id: str | None
) -> Event | None:
    if not isinstance(change, dict):
        raise _Skip("change is not an object")
    field = change.get("field")
    if not isinstance(field, str):
        raise _Skip("change without a field")
    value = change.get("value")
    if not isinstance(value, dict):
        raise _Skip("change without a value object", f"{field} at {where}")
    where = f"{where}.value"
    reader = _FIELDS.get(field)
    if reader is None:
        return Ignored(f"field {field[:60]}", field[:60])
    if field in ("messages", "user_preferences"):
        metadata = value.get("metadata")
        theirs = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
        if number_id and theirs is not None and str(theirs) != number_id:
            return Ignored("another business number", field, f"phone_number_id {theirs}")
    return reader(value, where, at, events)


def _messages(value: dict[str, Any], where: str, at: datetime | None, events: list[Event]) -> None:
    metadata = value.get("metadata")
    number_id = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
    number_id = str(number_id) if number_id is not None else None
    contacts = _contacts(value.get("contacts"), events)
    for k, item in enumerate(_items(value, "statuses", where, events)):
        path = f"{where}.statuses[{k}]"
        _one(events, "messages", path, _status, item, path, number_id)
    for k, item in enumerate(_items(value, "messages", where, events)):
        path = f"{where}.messages[{k}]"
        _one(events, "messages", path, _inbound, item, path, contacts, number_id)
    if "errors" in value:
        _one(events, "messages", f"{where}.errors", _system_errors, value["errors"])


def _system_errors(raw: Any) -> SystemErrorEvent:
    return SystemErrorEvent(_errors(raw))


def _items(value: dict[str, Any], key: str, where: str, events: list[Event]) -> list[Any]:
    items = value.get(key, [])
    if not isinstance(items, list):
        events.append(Ignored(f"{key} is not a list", "messages", f"{where}.{key}"))
        return []
    return items


def _contacts(raw: Any, events: list[Event]) -> dict[str, tuple[str | None, str | None]]:
    """``contacts[]`` by phone digits and by user id → (profile name, username); each entry
    naming both a phone and a user id is also a UserIdentity (the contact learns the other)."""
    found: dict[str, tuple[str | None, str | None]] = {}
    if not isinstance(raw, list):
        return found
    for contact in raw:
        if not isinstance(contact, dict):
            continue
        profile = contact.get("profile")
        profile = profile if isinstance(profile, dict) else {}
        name, username = _optional_str(profile.get("name")), _optional_str(profile.get("username"))
        user_id = _optional_str(contact.get("user_id"))
        phone = _lenient_phone(_optional_str(contact.get("wa_id")))
        for key in (phone, user_id):
            if key:
                found[key] = (name, username)
        if user_id and _is_user_id(user_id) and (phone or username):
            events.append(UserIdentity(phone, user_id, username))
    return found


def _status(item: Any, where: str, number_id: str | None) -> StatusEvent | Ignored:
    if not isinstance(item, dict):
        raise _Skip("status is not an object")
    status = item.get("status")
    if not isinstance(status, str):
        raise _Skip("status without a status")
    if status not in STATUSES:
        return Ignored(f"status {status[:40]}", "messages", where)
    callback = item.get("biz_opaque_callback_data")
    # the recipient only describes the message (it is found by wamid or callback): an odd one
    # is dropped, never the status
    recipient = _lenient_phone(_optional_str(item.get("recipient_id")))
    user_id = _optional_str(item.get("recipient_user_id"))
    if recipient is None and user_id is None:
        user_id = _user_id_or_none(_optional_str(item.get("recipient_id")))
    return StatusEvent(
        wamid=_str(item, "id"),
        status=cast(Status, status),  # one of STATUSES, checked above
        at=_time(item.get("timestamp"), "timestamp"),
        recipient=recipient,
        callback=callback if isinstance(callback, str) and callback else None,
        errors=_errors(item.get("errors", [])),
        phone_number_id=number_id,
        recipient_user_id=user_id,
        pricing=_pricing(item.get("pricing")),
    )


def _pricing(raw: Any) -> Pricing | None:
    if not isinstance(raw, dict):
        return None
    billable = raw.get("billable")
    return Pricing(
        model=_optional_str(raw.get("pricing_model")),
        category=_optional_str(raw.get("category")),
        type=_optional_str(raw.get("type")),
        billable=billable if isinstance(billable, bool) else None,
    )


def _inbound(
    item: Any, where: str, contacts: dict[str, tuple[str | None, str | None]], number_id: str | None
) -> InboundEvent | IdentityChange | Ignored:
    if not isinstance(item, dict):
        raise _Skip("message is not an object")
    raw_type = item.get("type")
    if raw_type == "system":
        return _system(item, where)
    phone = _maybe_phone(_optional_str(item.get("from")))
    user_id = _optional_str(item.get("from_user_id"))
    if phone is None and user_id is None:
        raise _Skip("message without a sender", where)
    kind: InboundKind = "other"
    text, payload = "", None
    body = item.get(raw_type) if isinstance(raw_type, str) else None
    if raw_type == "text" and isinstance(body, dict):
        kind = "text"
        text = str(body.get("body") or "")
    elif raw_type == "button" and isinstance(body, dict):
        kind = "button"
        text = str(body.get("text") or body.get("payload") or "")
        payload = _optional_str(body.get("payload"))
    elif raw_type == "interactive" and isinstance(body, dict):
        reply = body.get("button_reply") or body.get("list_reply")
        # A Flow reply (nfm_reply), or a reply type newer than this parser, stays "other".
        if isinstance(reply, dict):
            kind = "interactive"
            text = str(reply.get("title") or "")
            payload = _optional_str(reply.get("id"))
    elif isinstance(body, dict):
        text = str(body.get("caption") or "")
    # An unsupported message ("type": "unsupported", or an interactive one without its object,
    # with an errors[] array) is still the user writing back: it counts, as "other".
    context = item.get("context")
    name, username = contacts.get(phone or "") or contacts.get(user_id or "") or (None, None)
    return InboundEvent(
        wamid=_str(item, "id"),
        phone=phone,
        kind=kind,
        text=text,
        at=_time(item.get("timestamp"), "timestamp"),
        name=name,
        payload=payload,
        context=_optional_str(context.get("id")) if isinstance(context, dict) else None,
        phone_number_id=number_id,
        user_id=user_id,
        username=username,
    )


def _system(item: dict[str, Any], where: str) -> IdentityChange | Ignored:
    """``user_changed_number`` (``from`` the old number, ``system.wa_id`` the new one) and
    ``user_changed_user_id`` (``system.previous_user_id`` → ``system.user_id``)."""
    system = item.get("system")
    if not isinstance(system, dict):
        raise _Skip("system message without its object")
    kind = system.get("type")
    at = _time(item.get("timestamp"), "timestamp")
    if kind == "user_changed_number":
        old = _maybe_phone(_optional_str(item.get("from")))
        new = _maybe_phone(_optional_str(system.get("wa_id")))
        if old and new:
            return IdentityChange("number", old, new, at)
        raise _Skip("user_changed_number without both numbers")
    if kind == "user_changed_user_id":
        old_id = _optional_str(system.get("previous_user_id"))
        new_id = _optional_str(system.get("user_id"))
        if old_id and new_id:
            return IdentityChange("user_id", old_id, new_id, at)
        raise _Skip("user_changed_user_id without both ids")
    return Ignored(f"system {str(kind)[:40]}", "messages", where)


def _template_status(value: dict[str, Any], where: str, at: datetime | None, events: list[Event]) -> Event:
    reason = value.get("reason")
    info = value.get("other_info")
    return TemplateStatusEvent(
        name=_str(value, "message_template_name"),
        language=_str(value, "message_template_language"),
        # The pacing docs spell the event in lower case ("paused").
        status=_str(value, "event").upper(),
        reason=str(reason) if reason not in (None, "", "NONE") else None,
        meta_id=_meta_id(value),
        at=at,
        other_info=_optional_str(info.get("title")) if isinstance(info, dict) else None,
    )


def _template_category(value: dict[str, Any], where: str, at: datetime | None, events: list[Event]) -> Event:
    return TemplateCategoryEvent(
        name=_str(value, "message_template_name"),
        language=_str(value, "message_template_language"),
        meta_id=_meta_id(value),
        category=_str(value, "new_category").upper(),
        previous=(_optional_str(value.get("previous_category")) or "").upper() or None,
        at=at,
    )


def _template_quality(value: dict[str, Any], where: str, at: datetime | None, events: list[Event]) -> Event:
    return TemplateQualityEvent(
        name=_str(value, "message_template_name"),
        language=_str(value, "message_template_language"),
        meta_id=_meta_id(value),
        quality=_str(value, "new_quality_score").upper(),
        previous=(_optional_str(value.get("previous_quality_score")) or "").upper() or None,
        at=at,
    )


_TIERS = {"TIER_50": 50, "TIER_250": 250, "TIER_1K": 1000, "TIER_2K": 2000, "TIER_10K": 10_000}
_TIERS |= {"TIER_100K": 100_000}


def limit_of(raw: Any) -> tuple[bool, int | None]:
    """A messaging limit as Meta writes it (``TIER_2K``, ``2000``, ``-1``, ``TIER_UNLIMITED``):
    (understood, unique users a day or None for unlimited)."""
    if isinstance(raw, bool):
        return False, None
    if isinstance(raw, int):
        return (True, None) if raw < 0 else (raw > 0, raw)
    text = str(raw or "").strip().upper()
    if text in ("TIER_UNLIMITED", "UNLIMITED", "-1"):
        return True, None
    if text.isdigit() and int(text) > 0:
        return True, int(text)
    if text in _TIERS:
        return True, _TIERS[text]
    return False, None


def _capability(value: dict[str, Any], where: str, at: datetime | None, events: list[Event]) -> Event:
    for key in ("max_daily_conversations_per_business", "max_daily_conversation_per_phone"):
        if key in value:
            understood, limit = limit_of(value[key])
            if understood:
                return MessagingLimitEvent(limit, at, "business_capability_update")
    return Ignored("capability without a messaging limit", "business_capability_update")


def _number_quality(value: dict[str, Any], where: str, at: datetime | None, events: list[Event]) -> Event:
    # current_limit is deprecated and names a throughput level as often as a messaging limit
    # (THROUGHPUT_UPGRADE comes with TIER_UNLIMITED): only the portfolio's limit is read
    if "max_daily_conversations_per_business" in value:
        understood, limit = limit_of(value["max_daily_conversations_per_business"])
        if understood:
            events.append(MessagingLimitEvent(limit, at, "phone_number_quality_update"))
    return NumberQualityEvent(
        _str(value, "event").upper(), at, _optional_str(value.get("display_phone_number"))
    )


def _account(value: dict[str, Any], where: str, at: datetime | None, events: list[Event]) -> Event:
    return AccountEvent(_str(value, "event").upper(), at, value)


def _preferences(value: dict[str, Any], where: str, at: datetime | None, events: list[Event]) -> None:
    for k, item in enumerate(_items(value, "user_preferences", where, events)):
        path = f"{where}.user_preferences[{k}]"
        _one(events, "user_preferences", path, _preference, item, path)


def _preference(item: Any, where: str) -> MarketingPreferenceEvent | Ignored:
    if not isinstance(item, dict):
        raise _Skip("preference is not an object")
    category = item.get("category", "marketing_messages")
    value = item.get("value")
    if category != "marketing_messages" or value not in ("stop", "resume"):
        return Ignored(f"preference {str(category)[:40]} {str(value)[:20]}", "user_preferences", where)
    phone = _maybe_phone(_optional_str(item.get("wa_id")))
    user_id = _optional_str(item.get("user_id"))
    if phone is None and user_id is None:
        raise _Skip("preference without a user")
    return MarketingPreferenceEvent(
        phone=phone, value=value, at=_time(item.get("timestamp"), "timestamp"), user_id=user_id
    )


_Reader = Callable[[dict[str, Any], str, "datetime | None", list[Event]], "Event | None"]
_FIELDS: dict[str, _Reader] = {
    "messages": _messages,
    "message_template_status_update": _template_status,
    "template_category_update": _template_category,
    "message_template_quality_update": _template_quality,
    "business_capability_update": _capability,
    "phone_number_quality_update": _number_quality,
    "account_update": _account,
    "user_preferences": _preferences,
}


def _errors(raw: Any) -> tuple[StatusError, ...]:
    if not isinstance(raw, list):
        raise _Skip("errors is not a list")
    found = []
    for item in raw:
        if not isinstance(item, dict):
            raise _Skip("error is not an object")
        code = item.get("code")
        if isinstance(code, str) and code.isdigit():
            code = int(code)
        if not isinstance(code, int) or isinstance(code, bool) or not 0 <= code <= _MAX_CODE:
            raise _Skip("error code is not a number")
        data = item.get("error_data")
        # error_data is an object for message errors but a bare string for template ones.
        details = data.get("details") if isinstance(data, dict) else data
        title = item.get("title") or item.get("message") or ""
        found.append(StatusError(code, str(title), str(details or "")))
    return tuple(found)


def _meta_id(value: dict[str, Any]) -> str | None:
    meta_id = value.get("message_template_id")  # an integer in the webhook, a string in the list
    return str(meta_id) if meta_id is not None and not isinstance(meta_id, dict | list) else None


def _time(raw: Any, key: str) -> datetime:
    moment = _optional_time(raw)
    if moment is None:
        raise _Skip(f"{key} is not a Unix time")
    return moment


def _optional_time(raw: Any) -> datetime | None:
    # Meta sends Unix seconds as a string in messages webhooks, an int elsewhere.
    if isinstance(raw, bool):
        return None
    try:
        return datetime.fromtimestamp(int(raw), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _maybe_phone(wa_id: str | None) -> str | None:
    """``+<digits>`` for a phone-number wa_id; None for an empty one (a withheld number)."""
    if wa_id is None:
        return None
    digits = wa_id.strip().lstrip("+")
    if not digits:
        return None
    if not digits.isdigit() or len(digits) > 15:
        raise _Skip("not a phone number")
    return "+" + digits


def _lenient_phone(wa_id: str | None) -> str | None:
    try:
        return _maybe_phone(wa_id)
    except _Skip:
        return None


def _is_user_id(value: str) -> bool:
    """A business-scoped user id: a country code, a period, an id (``US.1349…``, ``US.ENT.…``)."""
    country, dot, rest = value.partition(".")
    return bool(dot) and len(country) == 2 and country.isalpha() and bool(rest)


def _user_id_or_none(value: str | None) -> str | None:
    return value if value and _is_user_id(value) else None


def _str(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value:
        raise _Skip(f"{key} is missing")
    return value


def _optional_str(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _without_nul(value: Any) -> Any:
    """The document with NUL characters removed from every string (keys included)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value
