"""Budgets as API keys' `limits` and users' limits carry them: tokens a day and list-price cost
a month, per currency (decimal strings, never floats)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Currency = Literal["CNY", "USD"]
Amount = Annotated[str, Field(pattern=r"^\d{1,6}(\.\d{1,6})?$", max_length=13)]
"""An amount such as "50.00": at most 999,999.999999 of a currency a month."""


class Budgets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tokens_per_day: int | None = Field(default=None, ge=1, le=10**12)
    """Tokens (prompt and answer) a UTC day."""
    cost_per_month: dict[Currency, Amount] | None = Field(default=None, min_length=1)
    """What calls would be billed at list price (past free quota), per currency, a UTC month."""


class BudgetUse(BaseModel):
    """Where one budget stands in its current period."""

    budget: str
    """`tokens_per_day` or `cost_per_month:<currency>`."""
    limit: str
    used: str
    reserved: str
    """Held by calls in flight."""
    resets_at: str


class UserBudgetsEdit(BaseModel):
    """`PATCH /api/v1/admin/users/{id}`: the user's budgets (`null` lifts them)."""

    model_config = ConfigDict(extra="forbid")

    limits: Budgets | None


class UserBudgetsOut(BaseModel):
    """A user's budgets and where they stand now."""

    id: int
    username: str
    limits: dict[str, Any] | None
    budgets: list[BudgetUse]
