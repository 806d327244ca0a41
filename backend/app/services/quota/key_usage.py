"""The usage books per API key: tokens, answered calls and list-price cost per key, platform,
model and quota day, written with the account's books in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.upsert import upsert
from app.models import ApiKey, ApiKeyUsage, PlatformConfig
from app.services.calls.usage import TokenUsage
from app.services.quota.cost import NOTHING, Cost, from_units, to_units

_COUNTERS = ("total_tokens", "requests", "cost_units", "free_covered_units")


@dataclass(frozen=True)
class KeyUse:
    tokens: int = 0
    requests: int = 0
    cost: Cost | None = NOTHING
    """None once any of the calls was of an unpriced model."""
    latest: datetime | None = None

    def plus(self, tokens: TokenUsage, spent: Cost | None, now: datetime) -> KeyUse:
        cost = None if self.cost is None or spent is None else self.cost + spent
        latest = now if self.latest is None else max(self.latest, now)
        return KeyUse(self.tokens + tokens.total_tokens, self.requests + 1, cost, latest)


async def add(
    session: AsyncSession, key_id: int, platform_id: str, model: str, day: date, use: KeyUse
) -> None:
    row = {
        "api_key_id": key_id,
        "platform_id": platform_id,
        "model": model[:100],
        "day": day,
        "total_tokens": use.tokens,
        "requests": use.requests,
        "cost_units": to_units(use.cost.cost) if use.cost else None,
        "free_covered_units": to_units(use.cost.free_covered) if use.cost else None,
        "updated_at": use.latest,
    }
    await upsert(
        session,
        ApiKeyUsage.__table__,  # type: ignore[arg-type]
        row,
        add=_COUNTERS,
        replace=("updated_at",),
    )


@dataclass(frozen=True)
class KeyRow:
    """One key's use of one model on one day, as the summary reads it."""

    api_key_id: int
    name: str
    currency: str | None
    total_tokens: int
    cost: Decimal | None
    free_covered: Decimal | None


async def key_rows(session: AsyncSession, user_id: int, since: date) -> list[KeyRow]:
    """The user's keys' usage rows from `since` on (revoked keys too: they spent)."""
    rows = await session.execute(
        select(ApiKeyUsage, ApiKey.name, PlatformConfig.pricing)
        .join(ApiKey, ApiKey.id == ApiKeyUsage.api_key_id)
        .outerjoin(PlatformConfig, PlatformConfig.platform_id == ApiKeyUsage.platform_id)
        .where(ApiKey.user_id == user_id, ApiKeyUsage.day >= since)
    )
    return [
        KeyRow(
            row.api_key_id,
            name,
            (pricing or {}).get("currency"),
            row.total_tokens,
            from_units(row.cost_units),
            from_units(row.free_covered_units),
        )
        for row, name, pricing in rows
    ]
