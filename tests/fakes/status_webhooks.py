"""Signed status webhooks for the messages a fake Cloud API accepted, posted to a URL.

Meta's habits are on offer: duplicates, any order, ``read`` without
``delivered``, failures with a code, and the ``biz_opaque_callback_data`` echo.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import orjson

from engine.whatsapp.simulate import inbound_object, messages_value, status_object, webhook
from engine.whatsapp.webhook import SIGNATURE_HEADER, sign
from tests.fakes.behaviour import Accepted

DISPLAY_NUMBER = "15550783881"


class StatusWebhooks:
    """Builds and posts webhooks for ``accepted`` messages (``find`` looks one up by wamid)."""

    def __init__(
        self,
        *,
        accepted: list[Accepted],
        phone_number_id: str,
        business_account_id: str,
        app_secret: str,
    ) -> None:
        self.accepted = accepted
        self.phone_number_id = phone_number_id
        self.business_account_id = business_account_id
        self.app_secret = app_secret
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def find(self, wamid: str) -> Accepted:
        for message in self.accepted:
            if message.wamid == wamid:
                return message
        raise KeyError(wamid)

    def status(
        self,
        message: Accepted | str,
        status: str,
        *,
        code: int | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """A ``statuses[]`` object for an accepted message (by record or wamid)."""
        accepted = message if isinstance(message, Accepted) else self.find(message)
        when = at or accepted.at + timedelta(seconds={"sent": 1, "failed": 2}.get(status, 3))
        category = "marketing" if accepted.type == "template" else "service"
        return status_object(
            accepted.wamid,
            status,
            when,
            accepted.to,
            callback=accepted.callback,
            code=code,
            category=category,
        )

    def body(
        self,
        statuses: Sequence[Mapping[str, Any]] = (),
        messages: Sequence[Mapping[str, Any]] = (),
        contacts: Iterable[tuple[str, str]] = (),
    ) -> bytes:
        """A ``messages`` webhook body, serialized like Meta's (compact JSON)."""
        value = messages_value(
            phone_number_id=self.phone_number_id,
            display_phone_number=DISPLAY_NUMBER,
            statuses=statuses,
            messages=messages,
            contacts=contacts,
        )
        return orjson.dumps(webhook("messages", value, business_account_id=self.business_account_id))

    def signature(self, body: bytes, secret: str | None = None) -> str:
        return sign(body, secret if secret is not None else self.app_secret)

    async def post_webhook(
        self, url: str, body: bytes, *, secret: str | None = None, signature: str | None = None
    ) -> int:
        """POST ``body`` to ``url`` signed with ``secret`` (default: the app secret).

        ``signature`` overrides the header value; ``signature=""`` sends none.
        Returns the HTTP status the receiver answered.
        """
        header = self.signature(body, secret) if signature is None else signature
        headers = {"Content-Type": "application/json"}
        if header:
            headers[SIGNATURE_HEADER] = header
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.post(url, data=body, headers=headers) as response:
            await response.read()
            return response.status

    async def post_inbound(
        self,
        url: str,
        phone: str,
        text: str,
        *,
        name: str = "",
        context: str | None = None,
        button_payload: str | None = None,
        at: datetime | None = None,
    ) -> int:
        """Post a message from ``phone``: a text, or a quick-reply tap with ``button_payload``.

        ``context`` is the wamid it answers. Returns the receiver's HTTP status.
        """
        when = at or datetime.now(UTC)
        wamid = f"wamid.IN{random.getrandbits(64):016X}"
        item = inbound_object(wamid, phone, when, text=text, button_payload=button_payload, context=context)
        contacts = [(phone, name)] if name else []
        return await self.post_webhook(url, self.body(messages=[item], contacts=contacts))

    async def post_statuses(
        self, url: str, statuses: Sequence[Mapping[str, Any]], *, per_body: int = 1
    ) -> list[int]:
        """Post ``statuses`` in order, ``per_body`` to a body; returns each HTTP status."""
        answers = []
        for i in range(0, len(statuses), per_body):
            answers.append(await self.post_webhook(url, self.body(statuses[i : i + per_body])))
        return answers

    def lifecycle(
        self,
        message: Accepted | str,
        *,
        until: str = "read",
        read_without_delivered: bool = False,
        fail_code: int | None = None,
    ) -> list[dict[str, Any]]:
        """The statuses Meta would send: sent, delivered, read (up to ``until``), or failed."""
        if fail_code is not None:
            return [self.status(message, "failed", code=fail_code)]
        chain = ["sent", "delivered", "read"]
        chain = chain[: chain.index(until) + 1]
        if read_without_delivered and "read" in chain:
            chain.remove("delivered")
        return [self.status(message, s) for s in chain]

    async def deliver_statuses(
        self,
        url: str,
        *,
        wamids: Iterable[str] | None = None,
        until: str = "read",
        failures: Mapping[str, int] | None = None,
        read_without_delivered: Iterable[str] = (),
        duplicates: float = 0.0,
        shuffle: bool = False,
        per_body: int = 1,
        seed: int = 0,
    ) -> list[int]:
        """Post the lifecycle of each accepted message (or of ``wamids``).

        ``failures`` maps wamid → code; ``duplicates`` is the share of
        statuses posted twice; ``shuffle`` posts them in random order.
        """
        rng = random.Random(seed)
        failures = failures or {}
        skip_delivered = set(read_without_delivered)
        chosen = list(wamids) if wamids is not None else [m.wamid for m in self.accepted]
        statuses: list[dict[str, Any]] = []
        for wamid in chosen:
            statuses += self.lifecycle(
                wamid,
                until=until,
                read_without_delivered=wamid in skip_delivered,
                fail_code=failures.get(wamid),
            )
        statuses += [s for s in statuses if rng.random() < duplicates]
        if shuffle:
            rng.shuffle(statuses)
        return await self.post_statuses(url, statuses, per_body=per_body)
