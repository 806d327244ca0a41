"""Settings: one pydantic-settings object, read from the environment (and `.env`).

Every field maps to one environment variable (the seed's names where it has them); the README
lists each with its default, and a test keeps that list complete. In development the first run
generates a JWT secret and a credential key into a git-ignored local file; in production the
service refuses to start without explicit ones.
"""

from __future__ import annotations

import base64
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

BACKEND_DIR = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = BACKEND_DIR / "data"


MIN_HS256_SECRET_BYTES = 32


class ConfigurationError(RuntimeError):
    """The settings cannot run the service (raised at start-up, never per request)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    # --- service ---
    environment: Literal["development", "production", "test"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = ""
    """Empty means the embedded SQLite file `<DATA_DIR>/oauth_proxy.db`."""
    data_dir: Path = DEFAULT_DATA_DIR
    local_secrets_file: Path = BACKEND_DIR / ".local-secrets.env"
    log_level: str = "INFO"
    log_json: bool = True
    max_body_bytes: int = 1_048_576
    cors_origins: Annotated[list[str], NoDecode] = []
    """Origins allowed to call the API from a browser (comma-separated); none by default."""
    database_pool_size: int = 10
    outbound_timeout: float = 30.0
    """Seconds for requests to platforms and OAuth servers (validation, token exchange)."""
    outbound_allow_private: bool | None = None
    """Whether requests to platforms, OAuth servers, JWKS and the alert webhook may reach
    private, loopback and link-local addresses; unset: yes in development, no in production."""
    redis_url: str | None = None
    """Shared state across workers and instances; in-process when unset."""
    redis_key_prefix: str = Field(default="oauth-proxy", min_length=1)
    """Prefix of every Redis key the service writes: give each deployment sharing one Redis
    its own."""

    # --- users and tokens ---
    allow_registration: bool = True
    signin_failure_limit: str = "5/minute"
    """Failed sign-ins allowed per user name and client address (limits notation); more 429."""
    signin_ip_limit: str = "30/minute"
    """Sign-in attempts allowed per client address."""
    signin_user_limit: str = "30/minute;100/hour;300/day"
    """Failed sign-ins allowed per user name from all addresses together, in growing tiers
    (`;`-separated); an address that has signed in as the user before is exempt."""
    forwarded_allow_ips: Annotated[list[str], NoDecode] = ["127.0.0.1"]
    """Proxies whose X-Forwarded-For names the client (comma-separated addresses or networks,
    `*`: any)."""
    registration_limit: str = "10/hour"
    """Registrations allowed per client address."""
    jwt_secret: SecretStr | None = None
    jwt_algorithm: Literal["HS256", "RS256", "ES256"] = "HS256"
    jwt_public_key: str | None = None
    """PEM public key for RS256/ES256 tokens issued by a host application."""
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_expire_seconds: int = 86_400
    jwt_auto_provision: bool = False
    """Create a user the first time a valid token names an unknown `sub`."""

    # --- credential encryption ---
    credential_keys: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("CREDENTIAL_KEYS", "ENCRYPTION_KEYS")
    )
    """Comma-separated `key_id:base64(32 bytes)`; the first encrypts, all decrypt."""

    # --- credential lifecycle ---
    background_jobs: bool = True
    """Run the token refresher, the device-code poller and the alert checks in this process."""
    token_refresh_interval: int = 60
    """Seconds between scans for credentials about to expire."""
    job_lease_seconds: float = Field(default=15.0, gt=0)
    """Seconds a background job's lease lasts: its holder renews it every third of that, so a
    holder that died is replaced within 4/3 of it."""
    hold_sweep_seconds: float = Field(default=30.0, gt=0)
    """Seconds between sweeps that give back the expired quota holds of calls whose process
    died."""
    token_refresh_lead: int = 300
    """Seconds before expiry at which a credential is renewed."""

    # --- the seed's settings ---
    oauth_state_expire: int = 600
    """Seconds an authorization session (`state`) stays valid."""
    oauth_callback_url: str = "http://localhost:8000/api/v1/oauth/callback"
    oauth_session_retention_seconds: int = Field(default=86_400, ge=60)
    """Seconds an ended authorization session is kept for its owner to read, then deleted."""
    playwright_headless: bool = True
    playwright_timeout: int = 30_000
    """Milliseconds for one browser step."""
    playwright_browser_path: str | None = None
    """A Chromium executable; unset: Playwright's own browser, else a system Chromium."""
    browser_max_concurrent: int = 3
    """Browser logins running at once; more wait in a queue."""
    browser_max_per_user: int = Field(default=2, ge=1)
    """Browser logins one user may have running or queued; the next is refused with 429."""
    browser_login_deadline: int = 600
    """Seconds a whole browser login may take, user actions included."""
    litellm_log_level: str = "INFO"
    litellm_cache_enabled: bool = True
    """Reuse a user's non-streaming answer to an identical request (in-process, per user)."""
    litellm_cache_ttl: int = Field(default=300, ge=1)
    """Seconds a cached answer is reused."""

    # --- the call path ---
    call_timeout: float = Field(default=120.0, gt=0)
    """Seconds to wait on a platform: to connect, and between bytes of its answer."""
    call_max_attempts: int = Field(default=3, ge=1, le=10)
    """Attempts per call in all, each on another account of the platform where one exists."""
    call_lean_path: bool = True
    """Call platforms that speak OpenAI's API directly (same answers, a fraction of litellm's
    CPU); false: every call goes through litellm."""
    call_queue_seconds: float = Field(default=30.0, ge=0)
    """Seconds a call waits for an account whose concurrency slots or last tokens are taken by
    calls in flight, before it is refused with 429."""
    call_hold_seconds: float = Field(default=600.0, gt=0)
    """Seconds a call's quota reservation and concurrency slot outlive a worker that died
    mid-call; a live call that runs longer simply settles without its hold."""
    call_quota_blocks: bool = True
    """Each process reserves an account's quota in blocks while plenty is left, and its calls
    reserve from them in memory; false: every call writes its own reservation."""
    call_user_rate_limit: str | None = "600/minute"
    """Chat calls per user (limits notation, e.g. `600/minute`); more answer 429. Empty: none."""
    responses_retention_days: int = Field(default=30, ge=1, le=3650)
    """Days a stored Responses API answer (`store`, the default) can be read and continued."""
    request_log_retention_days: int = Field(default=30, ge=1, le=3650)
    """Days a call's row of the request log is kept (the sweeper prunes older ones)."""
    cache_enabled: bool = True
    """Cache platform configs (1 h), account lists (5 min) and API keys (1 min) for the call path;
    every change drops them in every worker and instance (through Redis when REDIS_URL is set)."""
    demo_mode: bool = False
    """Start an in-process fake platform, `demo`, that answers any key (refused in production)."""

    # --- monitoring and alerts ---
    metrics_token: SecretStr | None = None
    """When set, `/metrics` answers only requests with `Authorization: Bearer <METRICS_TOKEN>`."""
    metrics_per_account: bool = False
    """Publish per-account quota series (labelled by account id) on `/metrics`."""
    alert_webhook_url: SecretStr | None = None
    """Where each alert raised or resolved is POSTed as JSON (a URL may carry a token: secret)."""
    alert_check_interval: float = Field(default=60, gt=0)
    """Seconds between alert checks (run by one process across workers and instances)."""
    alert_success_rate_threshold: float = Field(default=0.8, ge=0, le=1)
    """A platform whose share of answered attempts over the window falls below this alerts."""
    alert_success_rate_window: float = Field(default=900, gt=0)
    """Seconds of recent calls the success rate is measured over."""
    alert_success_rate_min_requests: int = Field(default=20, ge=1)
    """Attempts the window must hold before a platform's success rate is judged."""

    @field_validator("cors_origins", "forwarded_allow_ips", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @model_validator(mode="after")
    def _check_production(self) -> Settings:
        if self.environment != "production":
            return self
        if self.demo_mode:
            raise ConfigurationError("DEMO_MODE=true is refused with ENVIRONMENT=production")
        missing = []
        if self.jwt_algorithm == "HS256" and not self.jwt_secret:
            missing.append("JWT_SECRET")
        if self.jwt_algorithm != "HS256" and not (self.jwt_public_key or self.jwt_jwks_url):
            missing.append("JWT_PUBLIC_KEY or JWT_JWKS_URL")
        if not self.credential_keys:
            missing.append("CREDENTIAL_KEYS")
        if missing:
            raise ConfigurationError(
                "ENVIRONMENT=production needs explicit secrets: set " + ", ".join(missing)
            )
        secret = self.jwt_secret.get_secret_value() if self.jwt_secret else ""
        if self.jwt_algorithm == "HS256" and len(secret.encode()) < MIN_HS256_SECRET_BYTES:
            raise ConfigurationError(
                f"ENVIRONMENT=production needs a JWT_SECRET of at least {MIN_HS256_SECRET_BYTES}"
                " bytes for HS256 (RFC 7518 §3.2)"
            )
        return self

    @property
    def allows_private_outbound(self) -> bool:
        if self.outbound_allow_private is None:
            return self.environment != "production"
        return self.outbound_allow_private

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'oauth_proxy.db'}"


def _generate_local_secrets(path: Path, settings: Settings) -> None:
    """Append what development lacks to the git-ignored local secrets file (mode 0600)."""
    lines = []
    if settings.jwt_algorithm == "HS256" and not settings.jwt_secret:
        lines.append(f"JWT_SECRET={secrets.token_urlsafe(48)}")
    if not settings.credential_keys:
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        lines.append(f"CREDENTIAL_KEYS=k1:{key}")
    if not lines:
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def load_settings() -> Settings:
    """Read the settings, generating local development secrets on first use.

    Precedence: environment, then `.env`, then the local secrets file.
    """
    local_file = Settings().local_secrets_file
    settings = Settings(_env_file=(str(local_file), ".env"))
    lacks_jwt_secret = settings.jwt_algorithm == "HS256" and not settings.jwt_secret
    if settings.environment == "development" and (lacks_jwt_secret or not settings.credential_keys):
        _generate_local_secrets(local_file, settings)
        settings = Settings(_env_file=(str(local_file), ".env"))
    return settings


@lru_cache
def get_settings() -> Settings:
    return load_settings()
