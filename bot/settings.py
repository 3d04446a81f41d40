"""Settings from the environment, read once at the composition root.

Every bad value is reported with the variable's name and what would work,
all at once, before anything starts.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import SettingsError
from engine.errors import Invalid
from engine.phones import normalize_phone
from engine.schedule import is_zone
from storage.database import parse_database_url
from storage.errors import DatabaseUrlError

CommaList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", env_file=None)

    database_url: str = "sqlite:///herald.db"
    redis_url: str = "redis://127.0.0.1:6379/0"
    host: str = "127.0.0.1"
    port: int = Field(3000, ge=1, le=65535)
    api_token: SecretStr | None = None
    metrics_token: SecretStr | None = None
    timezone: str = "UTC"

    whatsapp_token: SecretStr | None = None
    whatsapp_phone_number_id: str = ""
    whatsapp_business_account_id: str = ""
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_api_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v25.0"
    whatsapp_mps: int = Field(80, ge=1, le=10000)
    whatsapp_admins: CommaList = Field(default_factory=list)
    whatsapp_timeout_seconds: float = Field(30.0, gt=0, le=300)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_admins: CommaList = Field(default_factory=list)

    digest_channel: str | None = None
    digest_time: time = time(9, 0)

    # Operational knobs (documented in README; not part of the DESIGN contract).
    broadcast_grace_minutes: int = Field(60, ge=0)
    reconcile_minutes: int = Field(10, ge=1)
    condition_timeout_hours: int = Field(24, ge=1)
    sandbox_failure_rate: float = Field(0.04, ge=0, le=1)
    max_body_bytes: int = Field(1_048_576, ge=1024)
    import_max_bytes: int = Field(2_147_483_648, ge=1024)
    header_timeout_seconds: float = Field(10.0, gt=0, le=3600)  # a request's head, from connect
    body_timeout_seconds: float = Field(30.0, gt=0, le=3600)  # the longest wait for the next body bytes
    queue_namespace: str = Field("herald", pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    worker_processes: int = Field(2, ge=1, le=64)
    worker_threads: int = Field(8, ge=1, le=256)
    log_level: str = "INFO"

    # The delivery governor (DESIGN §9.2).
    messaging_limit: int | Literal["unlimited"] | None = None  # overrides what Meta says
    retry_131049_max: int = Field(2, ge=0, le=10)
    breaker_window: int = Field(500, ge=20, le=100_000)
    breaker_failure_rate: float = Field(0.10, gt=0, le=1)
    breaker_optout_rate: float = Field(0.02, gt=0, le=1)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            parse_database_url(value)
        except DatabaseUrlError as exc:
            raise ValueError(str(exc)) from exc
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if not re.match(r"^rediss?://", value or ""):
            raise ValueError(f"{value!r} is not a Redis URL; use redis://host:6379/0")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        if not is_zone(value):
            raise ValueError(
                f"{value!r} is not an IANA time zone; use a name like Asia/Kolkata or Europe/London"
            )
        return value

    @field_validator("whatsapp_api_url", "slack_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/]", value or ""):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("whatsapp_api_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not re.fullmatch(r"v\d+\.\d+", value or ""):
            raise ValueError(f"{value!r} is not a Graph API version; use a form like v25.0")
        return value

    @field_validator("whatsapp_admins", "slack_admins", mode="before")
    @classmethod
    def _split(cls, value: Any) -> list[str]:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return list(value or [])

    @field_validator("whatsapp_admins")
    @classmethod
    def _admin_phones(cls, value: list[str]) -> list[str]:
        """E.164 numbers, each optionally with its own timezone: ``+919812345678=Asia/Kolkata``."""
        admins = []
        for item in value:
            phone, _, tz = item.partition("=")
            try:
                normal = normalize_phone(phone)
            except Invalid as exc:
                raise ValueError(exc.render()) from exc
            if tz.strip():
                cls._timezone(tz.strip())
                normal += "=" + tz.strip()
            admins.append(normal)
        return admins

    @field_validator("messaging_limit", mode="before")
    @classmethod
    def _messaging_limit(cls, value: Any) -> int | str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        text = str(value).strip().lower().replace(",", "").replace("_", "")
        if text == "unlimited":
            return "unlimited"
        if text.isdigit() and int(text) > 0:
            return int(text)
        raise ValueError(
            f"{value!r} is not a messaging limit; use the number of unique users a day (250, 2000,"
            " 10000, 100000) or unlimited"
        )

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError(f"{value!r} is not a log level; use DEBUG, INFO, WARNING or ERROR")
        return level

    # -- derived facts ---------------------------------------------------------

    @property
    def whatsapp_live(self) -> bool:
        return self.whatsapp_token is not None and bool(self.whatsapp_token.get_secret_value())

    @property
    def slack_enabled(self) -> bool:
        return bool(
            self.slack_bot_token
            and self.slack_bot_token.get_secret_value()
            and self.slack_signing_secret
            and self.slack_signing_secret.get_secret_value()
        )

    @property
    def whatsapp_admin_zones(self) -> dict[str, str]:
        """Each WhatsApp admin's number → their timezone (``TIMEZONE`` unless set per admin)."""
        zones = {}
        for item in self.whatsapp_admins:
            phone, _, tz = item.partition("=")
            zones[phone] = tz or self.timezone
        return zones

    @property
    def messaging_limit_override(self) -> tuple[bool, int | None]:
        """(whether MESSAGING_LIMIT is set, unique users a day or None for unlimited)."""
        if self.messaging_limit is None:
            return False, None
        return True, None if self.messaging_limit == "unlimited" else int(self.messaging_limit)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment (and ``overrides``).

    Raises SettingsError listing every bad variable by name.
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{name}: {message}")
        raise SettingsError("; ".join(problems)) from exc
