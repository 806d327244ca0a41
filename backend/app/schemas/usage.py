"""Answers of /api/v1/oauth/usage."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer

Money = Annotated[
    Decimal,
    PlainSerializer(lambda d: format(d.normalize(), "f"), return_type=str, when_used="json"),
]
"""An exact amount, answered as a decimal string ("0.0000008"), never a float."""


class CostOut(BaseModel):
    cost: Money
    """List-price cost of the priced models' tokens."""
    free_covered: Money
    """Of `cost`, what the vendors' free tiers covered."""
    tokens: int
    unpriced_tokens: int
    """Tokens of models without a price: not in `cost`."""


class PlatformCostOut(CostOut):
    platform_id: str


class ModelCostOut(CostOut):
    platform_id: str
    model: str


class ApiKeyCostOut(CostOut):
    api_key_id: int
    name: str


class CurrencyCostOut(CostOut):
    """One currency's totals, and their parts per platform and per model."""

    currency: str | None
    """None: platforms without prices."""
    platforms: list[PlatformCostOut]
    models: list[ModelCostOut]
    api_keys: list[ApiKeyCostOut]
    """Calls made with your API keys (not those made with a JWT)."""


class UsageSummaryOut(BaseModel):
    since: date
    currencies: list[CurrencyCostOut]


class UsageRowOut(BaseModel):
    """One account's use of one model on one quota day."""

    day: date
    account_id: int
    account_name: str | None
    platform_id: str
    platform_name: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cached_tokens: int = 0
    """Of the prompt tokens, those the platform read from its prompt cache."""
    reasoning_tokens: int = 0
    """Of the completion tokens, those the model spent thinking."""
    requests: int
    """Answered calls."""
    failures: int
    """Failed attempts (they charge no tokens)."""
    cost: Money | None = None
    """List-price cost of the tokens in `currency`; null: the model has no price."""
    free_covered: Money | None = None
    """Of `cost`, what the vendor's free tier covered."""
    currency: str | None = None


class RouteUsageOut(BaseModel):
    """One route's use of one target on one quota day (`GET /api/v1/oauth/usage/routes`)."""

    model_config = ConfigDict(from_attributes=True)

    day: date
    route: str
    platform_id: str
    model: str
    total_tokens: int
    requests: int
