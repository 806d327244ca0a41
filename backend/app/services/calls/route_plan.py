"""The order a route's targets are tried in, by the route's strategy.

ordered         as listed
weighted        one drawn by weight first (a seedable random source), then the rest as listed
most_remaining  the largest share of today's tokens left across the target's usable accounts
                first (usable by the one status rule: account_status via Admission.survey;
                an account without a daily limit counts as full; none usable: 0)
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.errors import BadRequest
from app.models import ModelRoute, PlatformConfig
from app.services import model_routes
from app.services.calls.admission import Admission
from app.services.quota.quota_clock import daily_limit


@dataclass(frozen=True)
class Target:
    platform: PlatformConfig
    model: str
    weight: float = 1.0

    @property
    def label(self) -> str:
        return f"{self.platform.platform_id}/{self.model}"


@dataclass(frozen=True)
class RoutePlan:
    """A route asked for, and its targets in the order they are to be tried."""

    name: str
    targets: tuple[Target, ...]


def targets_of(rows: list[dict[str, Any]], platforms: dict[str, PlatformConfig]) -> list[Target]:
    """The saved targets whose platform still exists and is enabled."""
    found = []
    for row in rows:
        head, _, model = str(row.get("model", "")).partition("/")
        platform = platforms.get(head)
        if platform is not None and platform.is_enabled and model:
            found.append(Target(platform, model, float(row.get("weight") or 1)))
    return found


def weighted(targets: list[Target], draw: random.Random) -> list[Target]:
    total = sum(max(t.weight, 0.0) for t in targets)
    if total <= 0:
        return targets
    point = draw.uniform(0, total)
    for index, target in enumerate(targets):
        point -= max(target.weight, 0.0)
        if point <= 0:
            return [target, *targets[:index], *targets[index + 1 :]]
    return targets


async def remaining_share(
    session: AsyncSession, admission: Admission, user_id: int, target: Target, now: datetime
) -> float:
    found = await admission.survey(session, user_id, target.platform, target.model, now, full=True)
    left = limit = 0
    for account in found.usable:
        cap = daily_limit(target.platform, account.quota_limit)
        remaining = found.remaining.get(account.id)
        if cap is None or remaining is None:
            return 1.0
        left, limit = left + max(remaining, 0), limit + cap
    return left / limit if limit else 0.0


async def by_remaining(
    session: AsyncSession, admission: Admission, user_id: int, targets: list[Target], now: datetime
) -> list[Target]:
    shares = [await remaining_share(session, admission, user_id, t, now) for t in targets]
    order = sorted(range(len(targets)), key=lambda i: -shares[i])  # stable: ties as listed
    return [targets[i] for i in order]


async def plan_for(
    factory: async_sessionmaker[AsyncSession],
    admission: Admission,
    user_id: int,
    name: str,
    draw: random.Random,
    now: datetime,
) -> tuple[RoutePlan | None, dict[str, PlatformConfig]]:
    """The plan of the route `name` means for this user (None when it is no route), and the
    platform configs it was made with (both from the call path's cache)."""
    platforms, rows = await admission.cache.platforms_and_routes(factory, user_id)
    row = model_routes.find(rows, name, platforms)
    if row is None:
        return None, platforms
    return await _ordered(factory, admission, user_id, row, platforms, draw, now), platforms


async def _ordered(
    factory: async_sessionmaker[AsyncSession],
    admission: Admission,
    user_id: int,
    row: ModelRoute,
    platforms: dict[str, PlatformConfig],
    draw: random.Random,
    now: datetime,
) -> RoutePlan:
    targets = targets_of(row.targets, platforms)
    if not targets:
        raise BadRequest(
            f"The route {row.name!r} has no target on an enabled platform.", code="route_unusable"
        )
    if row.strategy == "weighted":
        targets = weighted(targets, draw)
    elif row.strategy == "most_remaining":
        async with factory() as session:
            targets = await by_remaining(session, admission, user_id, targets, now)
    return RoutePlan(row.name, tuple(targets))


def spoken(
    plan: RoutePlan | None,
    platform: PlatformConfig,
    speakers: Callable[[PlatformConfig], bool] | None,
) -> RoutePlan | None:
    """A call in a platform's own API keeps to the route's targets whose platform speaks it:
    those `speakers` says, else the targets on that platform."""
    if plan is None:
        return None
    speaks = speakers or (lambda other: other.platform_id == platform.platform_id)
    return RoutePlan(plan.name, tuple(t for t in plan.targets if speaks(t.platform)))


def platforms(plan: RoutePlan | None, platform: PlatformConfig) -> list[PlatformConfig]:
    """The platforms a call may be made on: its route's targets', else its own."""
    return [t.platform for t in plan.targets] if plan else [platform]
