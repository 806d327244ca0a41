"""What a call's tokens cost at the platform's list prices (its `pricing`), exactly: Decimal
from the decimal strings of the data, never a float; and what of it the vendor's free tier
covered."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.services.calls.usage import TokenUsage

MTOK = Decimal(1_000_000)
ZERO = Decimal(0)
UNIT_EXPONENT = -12
"""The books count cost in 1e-12 of a currency: a price has at most six decimals per million
tokens, so every cost is a whole number of these."""


def to_units(amount: Decimal) -> int:
    units = amount.scaleb(-UNIT_EXPONENT)
    assert units == units.to_integral_value(), amount
    return int(units)


def from_units(units: int | None) -> Decimal | None:
    return None if units is None else Decimal(units).scaleb(UNIT_EXPONENT)


@dataclass(frozen=True)
class Cost:
    cost: Decimal
    free_covered: Decimal

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.cost + other.cost, self.free_covered + other.free_covered)


NOTHING = Cost(ZERO, ZERO)


def model_price(pricing: dict[str, Any] | None, model: str) -> dict[str, Any] | None:
    """The model's prices in a platform's stored `pricing` (validated when it was saved)."""
    return ((pricing or {}).get("models") or {}).get(model)


def call_cost(pricing: dict[str, Any] | None, model: str, tokens: TokenUsage | None) -> Cost | None:
    """The tokens' list-price cost; None for a model without a price (unknown is not free)."""
    price = model_price(pricing, model)
    if price is None:
        return None
    if tokens is None:
        return NOTHING
    per_input = Decimal(price["input_per_mtok"])
    per_output = Decimal(price["output_per_mtok"])
    per_cached = Decimal(price.get("cached_input_per_mtok") or per_input)
    per_reasoning = Decimal(price.get("reasoning_per_mtok") or per_output)
    cached = min(tokens.cached_tokens, tokens.prompt_tokens)
    reasoning = min(tokens.reasoning_tokens, tokens.completion_tokens)
    micro = (
        (tokens.prompt_tokens - cached) * per_input
        + cached * per_cached
        + (tokens.completion_tokens - reasoning) * per_output
        + reasoning * per_reasoning
    )
    cost = micro / MTOK
    return Cost(cost, cost if price.get("free_tier") else ZERO)
