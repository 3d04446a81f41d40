"""Logging set-up: one handler, every record redacted (secrets and phone numbers)."""

from __future__ import annotations

import logging
import sys

from bot.settings import Settings
from engine.redact import RedactingFilter


def secrets_of(settings: Settings) -> list[str]:
    values = [
        settings.api_token,
        settings.metrics_token,
        settings.whatsapp_token,
        settings.whatsapp_app_secret,
        settings.whatsapp_verify_token,
        settings.slack_bot_token,
        settings.slack_signing_secret,
    ]
    return [v.get_secret_value() for v in values if v is not None]


def configure_logging(settings: Settings, stream: object = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets_of(settings)))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for noisy in ("aiohttp.access", "dramatiq", "slack_bolt", "slack_sdk", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
