"""The Cloud API over HTTP: one shared aiohttp session, many requests in flight.

At a real round trip sends/s ≈ requests in flight ÷ RTT, so 1,000 sends/s at
150 ms needs about 150 in flight: the pool holds ``connections`` (default
256) keep-alive connections to Graph. aiohttp, not httpx: measured here,
httpx's pool sent 274–484 messages/s where bare aiohttp sent about 6,800
(bench/README.md, "WhatsApp client and webhook receiver").

How a failure is reported (the families are in ``engine.whatsapp.errors``):

- Meta answered with a Graph error body: the family of its ``error.code``,
  whatever the HTTP status (Meta says not to rely on the status).
- The request never left: no connection could be made (refused, DNS, TLS,
  connect timeout) → ``Retryable``; Meta cannot have accepted it.
- The request may have arrived: a read timeout, a connection closed or reset
  after sending, a body cut off, a bare 5xx, or a 2xx with no message id →
  ``Ambiguous``; Meta may have accepted it and a blind resend may send twice.

The token is only ever in the Authorization header; log lines carry masked
phone numbers.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import aiohttp
import orjson
from yarl import URL

from engine.phones import mask_identity
from engine.whatsapp.errors import (
    Ambiguous,
    DeliveryError,
    Permanent,
    Retryable,
    classify,
    title_of,
)
from engine.whatsapp.messages import TemplateMessage, TextMessage

log = logging.getLogger(__name__)

DEFAULT_CONNECTIONS = 256
TEMPLATE_FIELDS = "id,name,language,status,category,parameter_format,components"
MESSAGING_LIMIT_FIELD = "whatsapp_business_manager_messaging_limit"
MAX_TEMPLATE_PAGES = 1000
_CODE_PREFIX = re.compile(r"^\(#\d+\)\s*")


class CloudApiClient:
    """``CloudApi`` over HTTP to ``{base_url}/{api_version}/…``.

    ``connections`` bounds requests in flight (extra ones wait for a free
    connection); ``connect_timeout`` (seconds) bounds opening a connection
    and ``read_timeout`` (seconds) the wait for Meta's answer once sent.
    Create and use it inside one event loop; ``close()`` when done.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_version: str,
        token: str,
        phone_number_id: str,
        business_account_id: str = "",
        connections: int = DEFAULT_CONNECTIONS,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        keepalive: float = 30.0,
        page_size: int = 100,
    ) -> None:
        if connections < 1:
            raise ValueError("connections must be at least 1")
        root = URL(base_url.rstrip("/")) / api_version
        self._number_url = root / phone_number_id
        self._messages_url = self._number_url / "messages"
        self._templates_url = root / business_account_id / "message_templates"
        self._business_account_id = business_account_id
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        }
        self._connections = connections
        self._keepalive = keepalive
        # Pool waits are not timed (callers bound what they put in flight);
        # only opening a connection and waiting for the answer are.
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout, sock_read=read_timeout
        )
        self._read_timeout = read_timeout
        self._page_size = page_size
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"CloudApiClient({self._messages_url.origin()}, token=***)"

    async def __aenter__(self) -> CloudApiClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def send_template(self, message: TemplateMessage) -> str:
        """Send a template; returns the wamid. Raises a DeliveryError family member."""
        template: dict[str, Any] = {
            "name": message.template,
            "language": {"code": message.language},
        }
        if message.components:
            template["components"] = message.components
        payload: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            **message.address,
            "type": "template",
            "template": template,
        }
        if message.callback:
            payload["biz_opaque_callback_data"] = message.callback
        return await self._send(payload, message.to or message.recipient)

    async def send_text(self, message: TextMessage) -> str:
        """Send free-form text (inside the 24 h window); returns the wamid.

        Raises a DeliveryError family member (131047 Permanent outside the window).
        """
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            **message.address,
            "type": "text",
            "text": {"body": message.body, "preview_url": False},
        }
        return await self._send(payload, message.to or message.recipient)

    async def templates(self) -> list[dict[str, Any]]:
        """Every message template of the business account, across all pages.

        Raises a DeliveryError family member (CredentialsError for a bad
        token; Retryable when the pages do not add up, rather than a partial list).
        """
        if not self._business_account_id:
            raise Permanent("no WhatsApp business account id is configured.")
        query = {"limit": str(self._page_size), "fields": TEMPLATE_FIELDS}
        found: list[dict[str, Any]] = []
        seen: set[str] = set()
        for _ in range(MAX_TEMPLATE_PAGES):
            page = await self._get(self._templates_url, query)
            data = page.get("data")
            if not isinstance(data, list):
                raise Retryable("the template list answer has no data list.")
            found.extend(item for item in data if isinstance(item, dict))
            paging = _object(page.get("paging"))
            after = _object(paging.get("cursors")).get("after")
            # Graph keeps a cursor on the last page and drops "next": "next" says
            # whether there is more. Its URL is not followed: it names a host
            # from the answer, and the bearer token must only go to base_url.
            if not paging.get("next"):
                return found
            if not isinstance(after, str) or not after or after in seen:
                # A partial list would read as deleted templates to a sync: refuse it.
                raise Retryable("the template list's paging does not advance.")
            seen.add(after)
            query = {**query, "after": after}
        raise Retryable(f"the template list did not end after {MAX_TEMPLATE_PAGES} pages.")

    async def messaging_limit(self) -> str | None:
        """The business's messaging limit as Meta names it (``TIER_250``, ``TIER_2K``…
        ``TIER_UNLIMITED``), read from the phone number; None when the answer has none.

        Raises a DeliveryError family member (CredentialsError for a bad token).
        """
        number = await self._get(self._number_url, {"fields": MESSAGING_LIMIT_FIELD})
        value = number.get(MESSAGING_LIMIT_FIELD)
        return str(value) if value is not None else None

    async def close(self) -> None:
        """Close every pooled connection. The client can be used again afterwards."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._connections,
                limit_per_host=0,
                keepalive_timeout=self._keepalive,
                ttl_dns_cache=300,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers,
                timeout=self._timeout,
                raise_for_status=False,
            )
        return self._session

    async def _send(self, payload: dict[str, Any], who: str | None) -> str:
        """POST one message; ``who`` is its recipient (masked in the debug log)."""
        body = orjson.dumps(payload)
        try:
            async with self._open().post(self._messages_url, data=body) as response:
                status = response.status
                raw = await response.read()
                retry_after = response.headers.get("Retry-After")
        except (TimeoutError, aiohttp.ClientError) as exc:
            error = self._transport_error(exc)
            log.debug("send to %s: %s", mask_identity(who), error.reason)
            raise error from exc
        if 200 <= status < 300:
            wamid = _wamid(raw)
            if wamid is None:
                raise Ambiguous("the Cloud API answered without a message id.", http_status=status)
            return wamid
        error = _graph_error(status, raw, retry_after)
        log.debug("send to %s: %s (HTTP %s)", mask_identity(who), error.reason, status)
        raise error

    async def _get(self, url: URL, query: dict[str, str]) -> dict[str, Any]:
        try:
            async with self._open().get(url, params=query) as response:
                status = response.status
                raw = await response.read()
                retry_after = response.headers.get("Retry-After")
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self._transport_error(exc) from exc
        if not 200 <= status < 300:
            raise _graph_error(status, raw, retry_after)
        try:
            page = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise Retryable("the Cloud API answered with something other than JSON.") from exc
        if not isinstance(page, dict):
            raise Retryable("the Cloud API answered with something other than an object.")
        return page

    def _transport_error(self, exc: BaseException) -> DeliveryError:
        """The family for a transport failure: did the request leave this machine?"""
        for kind, family, message in _TRANSPORT_ERRORS:
            if isinstance(exc, kind):
                return family(f"{message} ({type(exc).__name__}: {exc})")
        return Ambiguous(f"the connection to the Cloud API failed after sending ({exc!r}).")


# Checked in order: ConnectionTimeoutError is also a ServerTimeoutError (a
# TimeoutError), and ClientConnectorError is also a ClientOSError. A connector
# error happens before a byte of the request is written; anything after that
# may have reached Meta.
_TRANSPORT_ERRORS: tuple[tuple[type[BaseException], type[DeliveryError], str], ...] = (
    (aiohttp.ConnectionTimeoutError, Retryable, "timed out connecting; nothing was sent"),
    (aiohttp.ClientConnectorError, Retryable, "could not connect; nothing was sent"),
    (aiohttp.InvalidURL, Permanent, "the Cloud API URL is invalid"),
    (TimeoutError, Ambiguous, "no answer in time; Meta may have accepted it"),
    (aiohttp.ServerDisconnectedError, Ambiguous, "connection closed before the answer"),
    (aiohttp.ClientPayloadError, Ambiguous, "the answer was cut off"),
)


def _wamid(raw: bytes) -> str | None:
    try:
        answer = orjson.loads(raw)
        wamid = answer["messages"][0]["id"]
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
        return None
    return wamid if isinstance(wamid, str) and wamid else None


def _graph_error(status: int, raw: bytes, retry_after: str | None) -> DeliveryError:
    """The DeliveryError for a non-2xx answer, from its Graph error envelope if any."""
    try:
        error = orjson.loads(raw).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        error = None
    code = error.get("code") if isinstance(error, dict) else None
    if not isinstance(code, int) or isinstance(code, bool):
        family = classify(None, http_status=status)
        return family(
            f"HTTP {status} without a Graph error",
            http_status=status,
            retry_after=_seconds(retry_after),
        )
    assert isinstance(error, dict)
    data = error.get("error_data")
    # error_data is an object for message errors, a bare string for template ones.
    details = data.get("details") if isinstance(data, dict) else data
    message = _CODE_PREFIX.sub("", str(error.get("message") or "")).strip()
    title = message or str(error.get("error_user_title") or "") or title_of(code) or str(details)
    trace = error.get("fbtrace_id")
    return classify(code)(
        title or f"Graph error {code}",
        code=code,
        details=str(details or error.get("error_user_msg") or ""),
        http_status=status,
        fbtrace_id=str(trace) if trace else None,
        retry_after=_seconds(retry_after),
    )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _seconds(header: str | None) -> float | None:
    try:
        return max(0.0, float(header)) if header else None
    except ValueError:
        return None  # an HTTP date: Graph does not send those
