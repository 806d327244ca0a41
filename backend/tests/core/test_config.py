"""Settings: no shipped secrets; generated in development, required in production."""

from __future__ import annotations

import stat

import pytest

from app.core.config import ConfigurationError, Settings, load_settings


@pytest.fixture
def bare_env(monkeypatch, tmp_path):
    """An environment with no secrets set, working in an empty folder."""
    monkeypatch.chdir(tmp_path)
    for name in ("JWT_SECRET", "CREDENTIAL_KEYS", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOCAL_SECRETS_FILE", str(tmp_path / ".local-secrets.env"))
    return tmp_path


def test_development_generates_secrets_once_into_a_private_file(bare_env):
    first = load_settings()
    secrets_file = bare_env / ".local-secrets.env"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert first.jwt_secret is not None and first.credential_keys is not None
    second = load_settings()
    assert second.jwt_secret.get_secret_value() == first.jwt_secret.get_secret_value()
    assert second.credential_keys.get_secret_value() == first.credential_keys.get_secret_value()


def test_production_refuses_to_start_without_explicit_secrets(bare_env, monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(ConfigurationError, match="JWT_SECRET, CREDENTIAL_KEYS"):
        load_settings()
    assert not (bare_env / ".local-secrets.env").exists()


def test_production_with_a_public_key_needs_no_jwt_secret(bare_env, monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("JWT_ALGORITHM", "RS256")
    monkeypatch.setenv("JWT_JWKS_URL", "https://issuer.example/jwks.json")
    monkeypatch.setenv("CREDENTIAL_KEYS", "k1:" + "A" * 43)
    settings = load_settings()
    assert settings.jwt_secret is None


def test_the_embedded_database_is_the_default():
    settings = Settings(database_url="")
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.effective_database_url.endswith("oauth_proxy.db")


# Named before settings carried their unit: the seed's, and those deployments already set.
NAMED_BEFORE_UNITS = {
    "oauth_state_expire",  # the seed's
    "playwright_timeout",  # the seed's
    "outbound_timeout",
    "token_refresh_interval",
    "token_refresh_lead",
    "browser_login_deadline",
    "litellm_cache_ttl",
    "call_timeout",
    "alert_check_interval",
    "alert_success_rate_window",
}
_DURATION_WORDS = ("timeout", "interval", "ttl", "deadline", "lead", "expire", "window", "delay")
_UNITS = ("_seconds", "_ms")


def test_a_new_setting_of_a_duration_names_its_unit():
    fields = Settings.model_fields
    assert fields.keys() >= NAMED_BEFORE_UNITS  # the list names real settings only
    unnamed = [
        name
        for name, field in fields.items()
        if field.annotation in (int, float)
        and any(word in name for word in _DURATION_WORDS)
        and not name.endswith(_UNITS)
        and name not in NAMED_BEFORE_UNITS
    ]
    assert unnamed == [], f"name the unit of {unnamed}: ..._SECONDS or ..._MS"
