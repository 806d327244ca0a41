"""Your usage's list-price cost summed per currency, and within it per platform, per model and
per API key:
sums of the usage books' rows, so the summary is exactly the sum of the calls."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.schemas.usage import (
    ApiKeyCostOut,
    CurrencyCostOut,
    ModelCostOut,
    PlatformCostOut,
    UsageRowOut,
    UsageSummaryOut,
)
from app.services.quota.key_usage import KeyRow


@dataclass
class _Sum:
    cost: Decimal = Decimal(0)
    free_covered: Decimal = Decimal(0)
    tokens: int = 0
    unpriced_tokens: int = 0

    def add(self, row: UsageRowOut | KeyRow) -> None:
        self.tokens += row.total_tokens
        if row.cost is None:
            self.unpriced_tokens += row.total_tokens
        else:
            self.cost += row.cost
            self.free_covered += row.free_covered or 0

    def fields(self) -> dict[str, Any]:
        return {
            "cost": self.cost,
            "free_covered": self.free_covered,
            "tokens": self.tokens,
            "unpriced_tokens": self.unpriced_tokens,
        }


def summarize(rows: list[UsageRowOut], keys: list[KeyRow], since: date) -> UsageSummaryOut:
    totals: defaultdict[str | None, _Sum] = defaultdict(_Sum)
    by_key: defaultdict[tuple[str | None, int, str], _Sum] = defaultdict(_Sum)
    for key_row in keys:
        by_key[key_row.currency, key_row.api_key_id, key_row.name].add(key_row)
    platforms: defaultdict[tuple[str | None, str], _Sum] = defaultdict(_Sum)
    models: defaultdict[tuple[str | None, str, str], _Sum] = defaultdict(_Sum)
    for row in rows:
        totals[row.currency].add(row)
        platforms[row.currency, row.platform_id].add(row)
        models[row.currency, row.platform_id, row.model].add(row)
    currencies = [
        CurrencyCostOut(
            currency=currency,
            **total.fields(),
            platforms=[
                PlatformCostOut(platform_id=platform_id, **part.fields())
                for (of, platform_id), part in sorted(platforms.items(), key=_key)
                if of == currency
            ],
            models=[
                ModelCostOut(platform_id=platform_id, model=model, **part.fields())
                for (of, platform_id, model), part in sorted(models.items(), key=_key)
                if of == currency
            ],
            api_keys=[
                ApiKeyCostOut(api_key_id=key_id, name=name, **part.fields())
                for (of, key_id, name), part in sorted(by_key.items(), key=_key)
                if of == currency
            ],
        )
        for currency, total in sorted(totals.items(), key=_key)
    ]
    return UsageSummaryOut(since=since, currencies=currencies)


def _key(item: tuple[Any, _Sum]) -> tuple[str, ...]:
    key = item[0] if isinstance(item[0], tuple) else (item[0],)
    return tuple(str(part or "") for part in key)
