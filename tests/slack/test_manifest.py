"""The Slack app manifest matches what the app listens to."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.slack.app import ROUTE
from bot.slack.listeners import COMMANDS

MANIFEST = Path(__file__).resolve().parents[2] / "slack" / "manifest.yml"
URL = f"https://YOUR-HOST{ROUTE}"


def test_the_manifest_declares_every_command_event_scope_and_url() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    commands = manifest["features"]["slash_commands"]
    assert [c["command"] for c in commands] == [f"/{name}" for name in COMMANDS]
    assert {c["url"] for c in commands} == {URL}
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["request_url"] == URL
    assert settings["event_subscriptions"]["bot_events"] == ["app_mention", "message.im"]
    assert settings["interactivity"] == {"is_enabled": True, "request_url": URL}
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "chat:write.public",
        "users:read",
        "files:write",
        "app_mentions:read",
        "im:history",
        "im:read",
    }
