"""Requests and answers of /api/v1/auth/api-keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_serializer

from app.schemas.budgets import Budgets, BudgetUse

ModelPattern = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=r"^\S+$")]


class KeyLimits(Budgets):
    """What calls made with a key may use: its models, and its budgets."""

    models: list[ModelPattern] | None = Field(default=None, min_length=1, max_length=100)
    """The models the key may call: globs over `platform/model` and the model as asked
    (`zhipu/*`, `*-flash`, a route name such as `free`); none: every model."""


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    limits: KeyLimits | None = None


class ApiKeyEdit(BaseModel):
    """`PATCH /api/v1/auth/api-keys/{id}`: what is given is changed (`limits: null` lifts them)."""

    model_config = ConfigDict(extra="forbid")

    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
        | None
    ) = None
    limits: KeyLimits | None = None


class ApiKeyOut(BaseModel):
    """A key as its owner sees it later: the prefix only."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    limits: KeyLimits | None = None
    budgets: list[BudgetUse] = Field(default_factory=list)
    """Where the key's budgets stand now."""

    @field_serializer("limits")
    def _limits_set(self, limits: KeyLimits | None) -> dict[str, Any] | None:
        """The limits given, without the kinds left unset."""
        return limits.model_dump(exclude_none=True) if limits else None


class ApiKeyCreated(ApiKeyOut):
    key: str
    """The key itself: shown this once, stored only as a hash."""


class RevokedOut(BaseModel):
    id: int
    revoked: Literal[True] = True
