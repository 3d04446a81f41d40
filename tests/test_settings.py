import pytest

from bot.errors import SettingsError
from bot.settings import load_settings


def test_defaults_need_no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "TIMEZONE", "WHATSAPP_TOKEN", "SLACK_BOT_TOKEN", "API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.database_url == "sqlite:///herald.db"
    assert settings.timezone == "UTC"
    assert not settings.whatsapp_live
    assert not settings.slack_enabled
    assert settings.whatsapp_mps == 80


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        (
            "DATABASE_URL",
            "mysql://root@localhost/x",
            "DATABASE_URL: unsupported database scheme 'mysql'",
        ),
        ("DATABASE_URL", "herald.db", "DATABASE_URL: 'herald.db' is not a database URL"),
        ("DATABASE_URL", "postgresql://localhost:5432/", "DATABASE_URL"),
        ("DATABASE_URL", "postgresql://localhost:notaport/db", "DATABASE_URL"),
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE: 'Mars/Olympus' is not an IANA time zone"),
        ("TIMEZONE", "IST", "TIMEZONE"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL"),
        ("WHATSAPP_MPS", "0", "WHATSAPP_MPS"),
        ("WHATSAPP_ADMINS", "+919812345678,12345", "WHATSAPP_ADMINS"),
        ("DIGEST_TIME", "25:00", "DIGEST_TIME"),
        ("WHATSAPP_API_VERSION", "25", "WHATSAPP_API_VERSION"),
        ("MESSAGING_LIMIT", "lots", "MESSAGING_LIMIT: 'lots' is not a messaging limit; use the number"),
        ("MESSAGING_LIMIT", "0", "MESSAGING_LIMIT"),
        ("MESSAGING_LIMIT", "-250", "MESSAGING_LIMIT"),
        ("RETRY_131049_MAX", "-1", "RETRY_131049_MAX"),
        ("BREAKER_WINDOW", "5", "BREAKER_WINDOW"),
        ("BREAKER_FAILURE_RATE", "0", "BREAKER_FAILURE_RATE"),
        ("BREAKER_OPTOUT_RATE", "1.5", "BREAKER_OPTOUT_RATE"),
    ],
)
def test_bad_values_are_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert says in str(caught.value)


def test_lists_are_comma_separated_and_admin_phones_normalised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WHATSAPP_ADMINS", "+91 98123 45678, +447911123456")
    monkeypatch.setenv("SLACK_ADMINS", "U1,U2 ,")
    settings = load_settings()
    assert settings.whatsapp_admins == ["+919812345678", "+447911123456"]
    assert settings.slack_admins == ["U1", "U2"]


def test_the_serve_banner_never_prints_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.server import banner

    monkeypatch.setenv("WHATSAPP_TOKEN", "EAAG-secret-token")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-secret")
    monkeypatch.setenv("API_TOKEN", "api-secret")
    monkeypatch.setenv("DATABASE_URL", "postgresql://herald:pg-password@db:5432/herald")
    text = "\n".join(banner(load_settings()))
    for secret in (
        "EAAG-secret-token",
        "xoxb-secret",
        "signing-secret",
        "api-secret",
        "pg-password",
    ):
        assert secret not in text
    assert "live" in text
    assert "slack    : on" in text


@pytest.mark.parametrize(
    ("value", "override"),
    [("250", (True, 250)), ("2,000", (True, 2000)), ("Unlimited", (True, None)), ("", (False, None))],
)
def test_messaging_limit_is_a_number_or_unlimited(
    monkeypatch: pytest.MonkeyPatch, value: str, override: tuple[bool, int | None]
) -> None:
    monkeypatch.setenv("MESSAGING_LIMIT", value)
    assert load_settings().messaging_limit_override == override


def test_the_governors_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "MESSAGING_LIMIT",
        "RETRY_131049_MAX",
        "BREAKER_WINDOW",
        "BREAKER_FAILURE_RATE",
        "BREAKER_OPTOUT_RATE",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.messaging_limit_override == (False, None)
    assert (settings.retry_131049_max, settings.breaker_window) == (2, 500)
    assert (settings.breaker_failure_rate, settings.breaker_optout_rate) == (0.10, 0.02)
