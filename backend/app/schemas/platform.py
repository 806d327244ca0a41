"""Platform configs as the seed's `GET /api/v1/oauth/platforms` shows them."""

from __future__ import annotations

from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.schemas.pricing import Pricing


class PlatformOut(BaseModel):
    platform_id: str
    platform_name: str
    description: str | None
    is_enabled: bool
    available_models: list[str]
    embedding_models: list[str] = Field(default_factory=list, description="for /v1/embeddings")
    login_methods: list[str] = Field(description="ways to bind an account on this platform")
    unavailable_methods: dict[str, str] = Field(
        default_factory=dict,
        description="ways the platform names that this service cannot offer now, and why "
        "(`browser` where no Chromium can be had)",
    )


# Strict: a platform's settings are typed as they are meant (`0` is not `false`, `1.0` not `1`).
class LiteLLMConfig(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    provider: str = Field(min_length=1)
    api_base: str = Field(min_length=1)
    default_model: str = Field(min_length=1)
    available_models: list[str] = Field(min_length=1)
    responses_api: bool = False
    """The platform serves OpenAI's Responses API itself (`/responses` under `api_base`): a
    `POST /v1/responses` goes there as it is instead of being translated onto chat."""
    model_prefixes: list[str] | None = None
    """Plain model names that no platform lists but that start with one of these (`claude-`)
    go to this platform, for callers with an account on it: clients ask for models newer than
    the list."""
    embedding_models: list[str] = Field(default_factory=list)
    """Models of the platform's embeddings API (`POST /v1/embeddings`)."""
    free_tier: list[str] = Field(default_factory=list)
    """Models that carry free quota: the targets of the shipped `free` route."""


class QuotaConfig(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    daily_limit: int | None = Field(default=None, ge=0, le=2**62)
    """Tokens per account and quota day (an account's `quota_limit` overrides it)."""
    rate_limit: int | None = Field(default=None, ge=0, le=10**9)
    """Requests per minute per account."""
    strategy: Literal["most_remaining", "round_robin", "least_busy", "fill_first"] | None = None
    """How calls are spread over a user's accounts (default most_remaining)."""
    max_concurrency: int | None = Field(default=None, ge=1, le=100_000)
    """Calls in flight per account."""
    reset_timezone: str | None = None
    """The time zone whose midnight starts the quota day (default Asia/Shanghai)."""

    @field_validator("reset_timezone")
    @classmethod
    def _known_zone(cls, name: str | None) -> str | None:
        if name is not None:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"{name!r} is not a time zone name such as Asia/Shanghai") from exc
        return name


class PlatformConfigIn(BaseModel):
    """One entry of the platform config file (`app/data/platforms.json`)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    platform_id: str = Field(min_length=1, max_length=50, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    platform_name: str = Field(min_length=1, max_length=100)
    description: str | None = None
    oauth_config: dict[str, Any]
    litellm_config: LiteLLMConfig
    quota_config: QuotaConfig | None = None
    pricing: Pricing | None = None
    """List prices per model (`schemas/pricing.py`); none: the platform's calls are unpriced."""
    is_enabled: bool = True
