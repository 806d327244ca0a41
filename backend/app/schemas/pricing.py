"""A platform's list prices, as data (`pricing` in a platform config): per model, per million
tokens, as decimal strings so that no price is ever a float."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DecimalText = Annotated[str, Field(pattern=r"^\d{1,9}(\.\d{1,6})?$", max_length=16)]
"""A price such as "0.8": at most six digits after the point, so a token's cost is exact to
1e-12."""


class ModelPrice(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    input_per_mtok: DecimalText
    cached_input_per_mtok: DecimalText | None = None
    """Prompt tokens read from the platform's cache (default: the input price)."""
    output_per_mtok: DecimalText
    reasoning_per_mtok: DecimalText | None = None
    """Thinking tokens, when a model prices them apart (default: the output price)."""
    free_tier: bool = False
    """The vendor serves this model free of charge: all of its cost is covered."""


class FreeGrant(BaseModel):
    """What the vendor gives an account free, in tokens per period."""

    model_config = ConfigDict(extra="forbid", strict=True)

    tokens: int = Field(ge=0, le=2**62)
    period: Literal["day", "month", "once"]
    note: str | None = Field(default=None, max_length=500)


class Pricing(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    currency: Literal["CNY", "USD"]
    as_of: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    """The day the prices were read from the vendor's price page."""
    source: str | None = Field(default=None, max_length=500)
    models: dict[str, ModelPrice] = Field(default_factory=dict)
    free_grant: FreeGrant | None = None

    @field_validator("as_of")
    @classmethod
    def _real_day(cls, text: str) -> str:
        date.fromisoformat(text)  # a ValueError is the validation error
        return text
