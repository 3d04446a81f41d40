"""Fixtures for the WhatsApp package: the fake Cloud API over real HTTP, a client, a sink.

- ``cloud_api``: a running FakeCloudApi (inject with ``fail``/``delay``/``drop``/
  ``bare``/``failure_mix``, read ``requests``/``accepted``, post webhooks);
- ``cloud_client``: a CloudApiClient pointed at it (``cloud_api.client(**overrides)``
  builds one with other options);
- ``webhook_sink``: a receiver that verifies the fake's signatures and parses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from engine.whatsapp.client import CloudApiClient
from tests.fakes.cloud_api import FakeCloudApi
from tests.fakes.webhook_sink import WebhookSink


@pytest.fixture
async def cloud_api() -> AsyncIterator[FakeCloudApi]:
    """A running fake Cloud API on a free port of 127.0.0.1 (``cloud_api.url``)."""
    async with FakeCloudApi() as fake:
        yield fake


@pytest.fixture
async def cloud_client(cloud_api: FakeCloudApi) -> AsyncIterator[CloudApiClient]:
    """A CloudApiClient talking to ``cloud_api``; closed after the test."""
    async with cloud_api.client() as client:
        yield client


@pytest.fixture
async def webhook_sink(cloud_api: FakeCloudApi) -> AsyncIterator[WebhookSink]:
    """A webhook receiver that checks signatures with the fake's app secret."""
    async with WebhookSink(cloud_api.app_secret) as sink:
        yield sink
