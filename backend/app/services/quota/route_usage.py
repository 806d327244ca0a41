"""The usage books per route asked for: tokens and answered calls per user, route, target that
served and quota day, written with the account's books in the same transaction."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.upsert import upsert
from app.models import RouteUsage


async def add(
    session: AsyncSession,
    key: tuple[int, str, str, str, date],
    tokens: int,
    requests: int,
    now: datetime,
) -> None:
    user_id, route, platform_id, model, day = key
    row = {
        "user_id": user_id,
        "route": route[:100],
        "platform_id": platform_id,
        "model": model[:100],
        "day": day,
        "total_tokens": tokens,
        "requests": requests,
        "updated_at": now,
    }
    await upsert(
        session,
        RouteUsage.__table__,  # type: ignore[arg-type]
        row,
        add=("total_tokens", "requests"),
        replace=("updated_at",),
    )


async def route_rows(session: AsyncSession, user_id: int, since: date) -> list[RouteUsage]:
    rows = await session.scalars(
        select(RouteUsage)
        .where(RouteUsage.user_id == user_id, RouteUsage.day >= since)
        .order_by(RouteUsage.day, RouteUsage.route, RouteUsage.platform_id, RouteUsage.model)
    )
    return list(rows)
