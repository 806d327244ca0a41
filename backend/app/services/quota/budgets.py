"""Budgets: caps on what an API key's calls, or all of a user's calls, may use — tokens a UTC day
(`tokens_per_day`) and, per currency, what they would be billed at list price a UTC month
(`cost_per_month`: the cost free quota did not cover, quota/cost.py).

A call reserves its estimate on each budget before any platform is asked and settles to what it
used with its books (quota/budget_ledger.py), so concurrent calls pass a budget by at most one
call's estimate. A model without a price costs nothing against a cost budget (its cost is
unknown, not zero: the usage books say `null`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal

from app.models import PlatformConfig
from app.services.calls.usage import TokenUsage
from app.services.quota.cost import UNIT_EXPONENT, call_cost, model_price, to_units

Owner = Literal["key", "user"]
TOKENS = "tokens_per_day"
COST = "cost_per_month"
UNITS_PER_MTOK = 10**6
"""A price per million tokens, times this, is a token's cost in the books' units (1e-12)."""


@dataclass(frozen=True)
class Budget:
    owner: Owner
    owner_id: int
    name: str
    """`tokens_per_day` or `cost_per_month:<currency>`: what it counts."""
    limit: int
    """Tokens, or cost in 1e-12 of the currency."""
    shown: str
    """The limit as it was set ("50.00")."""

    @property
    def currency(self) -> str | None:
        return self.name.partition(":")[2] or None

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.owner, self.owner_id, self.name)

    def period(self, now: datetime) -> date:
        day = now.astimezone(UTC).date()
        return day if self.currency is None else day.replace(day=1)

    def resets_at(self, now: datetime) -> datetime:
        start = self.period(now)
        if self.currency is None:
            following = start + timedelta(days=1)
        else:
            following = (start + timedelta(days=32)).replace(day=1)
        return datetime.combine(following, time(), UTC)

    def described(self) -> str:
        whose = "This API key's" if self.owner == "key" else "Your"
        return f"{whose} budget of {self.limit_text()}"

    def limit_text(self) -> str:
        if self.currency is None:
            return f"{self.limit:,} tokens a day"
        return f"{self.shown} {self.currency} a month"

    def amount(self, number: int) -> str:
        """A figure of this budget's books as a person reads it."""
        if self.currency is None:
            return str(number)
        return format(Decimal(number).scaleb(UNIT_EXPONENT).normalize(), "f")  # never "5E+1"


def of(owner: Owner, owner_id: int, limits: dict[str, Any] | None) -> tuple[Budget, ...]:
    """The budgets in a key's or a user's `limits` (validated when they were saved)."""
    if not limits:
        return ()
    found = []
    tokens = limits.get(TOKENS)
    if tokens:
        found.append(Budget(owner, owner_id, TOKENS, int(tokens), str(tokens)))
    for currency, shown in sorted((limits.get(COST) or {}).items()):
        found.append(Budget(owner, owner_id, f"{COST}:{currency}", to_units(Decimal(shown)), shown))
    return tuple(found)


def estimate(budget: Budget, targets: list[tuple[PlatformConfig, str]], tokens: int) -> int:
    """What a call reserves on the budget: its token estimate, or that many tokens at the
    dearest price among the platforms and models it may be served by (in the budget's
    currency; none there, or free of charge: 0)."""
    if budget.currency is None:
        return tokens
    dearest = Decimal(0)
    for platform, model in targets:
        price = model_price(platform.pricing, model)
        if price is None or price.get("free_tier") or _currency(platform) != budget.currency:
            continue
        per_token = [v for k, v in price.items() if k.endswith("_per_mtok") and v is not None]
        dearest = max(dearest, *(Decimal(v) for v in per_token))
    return int(tokens * dearest * UNITS_PER_MTOK)


def spent(budget: Budget, platform: PlatformConfig, model: str, tokens: TokenUsage) -> int:
    """What a call that used `tokens` counts on the budget."""
    if budget.currency is None:
        return tokens.total_tokens
    cost = call_cost(platform.pricing, model, tokens)
    if cost is None or _currency(platform) != budget.currency:
        return 0
    return to_units(cost.cost - cost.free_covered)


def _currency(platform: PlatformConfig) -> str | None:
    return (platform.pricing or {}).get("currency")
