"""Settings: environment, TOML file, and errors that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import CONFIG_FILE_ENV, Settings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv(CONFIG_FILE_ENV, raising=False)


def test_defaults_give_a_sqlite_database_and_the_products_burnout_limits() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///advocate-bot.db"
    limits = settings.program_policy().limits
    assert (limits.max_per_90_days, limits.max_per_365_days, limits.cooldown_days) == (3, 8, 14)
    assert (limits.max_open_asks, limits.decline_streak, limits.decline_snooze_days) == (2, 2, 30)


def test_program_managers_are_split_on_commas_and_lower_cased(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROGRAM_MANAGERS", " Ana@Example.com, bo@example.com ;cy@example.com")
    assert load_settings().program_managers == [
        "ana@example.com",
        "bo@example.com",
        "cy@example.com",
    ]


def test_a_bad_value_names_the_setting_and_the_expected_form(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROGRAM_TIMEZONE", "Europe/Atlantis")
    monkeypatch.setenv("LIMIT_MAX_PER_90_DAYS", "zero")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "PROGRAM_TIMEZONE" in message and "IANA time zone" in message
    assert "LIMIT_MAX_PER_90_DAYS" in message and "'zero'" in message


@pytest.mark.parametrize(("value", "locale"), [
    ("ja", "ja"), ("ja-JP", "ja_JP"), ("Japanese", "ja"), ("日本語", "ja"), ("en_US", "en_US")])
def test_the_program_locale_is_read_by_code_or_name(
    monkeypatch: pytest.MonkeyPatch, value: str, locale: str
) -> None:
    monkeypatch.setenv("PROGRAM_LOCALE", value)
    assert load_settings().program_locale == locale


def test_a_program_locale_that_names_no_language_stops_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROGRAM_LOCALE", "Klingonish")
    with pytest.raises(SettingsError, match=r"PROGRAM_LOCALE.*'Klingonish' is not a language"):
        load_settings()


def test_the_program_currency_is_an_iso_code(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().program_policy().currency == "USD"
    monkeypatch.setenv("PROGRAM_CURRENCY", "eur")
    assert load_settings().program_policy().currency == "EUR"
    monkeypatch.setenv("PROGRAM_CURRENCY", "Euros")
    with pytest.raises(SettingsError, match=r"PROGRAM_CURRENCY.*'Euros' is not an ISO 4217"):
        load_settings()


def test_a_database_url_of_an_unknown_kind_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://db/advocates")
    with pytest.raises(SettingsError, match=r"DATABASE_URL.*postgresql://"):
        load_settings()


def test_a_toml_file_supplies_settings_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "bot.toml"
    config.write_text('program_timezone = "Asia/Tokyo"\nport = 8080\n', encoding="utf-8")
    monkeypatch.setenv(CONFIG_FILE_ENV, str(config))
    monkeypatch.setenv("PORT", "9090")
    settings = load_settings()
    assert settings.program_timezone == "Asia/Tokyo"
    assert settings.port == 9090


def test_a_missing_toml_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_FILE_ENV, str(tmp_path / "nope.toml"))
    with pytest.raises(SettingsError, match=r"nope\.toml: no such file"):
        load_settings()


def test_a_toml_file_that_does_not_parse_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("port = = 3\n", encoding="utf-8")
    monkeypatch.setenv(CONFIG_FILE_ENV, str(config))
    with pytest.raises(SettingsError, match=r"broken\.toml"):
        load_settings()


def test_slack_needs_a_way_to_verify_requests_and_secrets_are_never_echoed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret-value")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "SLACK_SIGNING_SECRET" in str(caught.value)
    assert "xoxb-secret-value" not in str(caught.value)

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-user-token")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s3cret")
    with pytest.raises(SettingsError) as wrong_kind:
        load_settings()
    assert "SLACK_BOT_TOKEN" in str(wrong_kind.value) and "xoxb-" in str(wrong_kind.value)
    assert "xoxp-user-token" not in str(wrong_kind.value)


def test_slack_is_enabled_by_a_bot_token_with_a_signing_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert not load_settings().slack_enabled
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s3cret")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api")
    settings = load_settings()
    assert settings.slack_enabled and settings.slack_api_url == "http://127.0.0.1:9/api/"


def test_teams_settings_use_the_bot_framework_names_and_check_the_tenant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppType",
                 "MicrosoftAppTenantId", "TEAMS_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    assert not load_settings().teams_active
    monkeypatch.setenv("MicrosoftAppId", "00000000-0000-0000-0000-000000000001")
    monkeypatch.setenv("MicrosoftAppType", "singletenant")
    with pytest.raises(SettingsError, match="MicrosoftAppTenantId"):
        load_settings()
    monkeypatch.setenv("MicrosoftAppTenantId", "contoso.onmicrosoft.com")
    settings = load_settings()
    assert settings.teams_active and settings.microsoft_app_type == "SingleTenant"


def test_rep_email_domains_are_lower_case_domains(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REP_EMAIL_DOMAINS", " Vendor.example, @sales.vendor.example")
    assert load_settings().rep_email_domains == ["vendor.example", "sales.vendor.example"]
    monkeypatch.setenv("REP_EMAIL_DOMAINS", "vendor.example, riley@vendor.example")
    with pytest.raises(SettingsError, match=r"REP_EMAIL_DOMAINS: 'riley@vendor\.example' is "
                                            r"not an email domain"):
        load_settings()


def test_the_default_call_hours_are_read_as_people_write_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().program_policy().default_hours == "Mon-Fri 09:00-18:00"
    monkeypatch.setenv("PROGRAM_DEFAULT_HOURS", "weekdays 8:30am-5pm")
    assert load_settings().program_policy().default_hours == "Mon-Fri 08:30-17:00"
    monkeypatch.setenv("PROGRAM_DEFAULT_HOURS", "whenever")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert "PROGRAM_DEFAULT_HOURS" in str(refused.value)
    assert "Mon-Fri 09:00-18:00" in str(refused.value)
