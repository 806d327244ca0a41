"""Model routes: saved, listed, removed and found for a call.

A route is a name (letters, digits and `-._:`, never `/`) standing for `platform/model` targets
and a strategy (calls/route_plan.py orders them). A user's own route shadows the deployment's of
the same name, for that user only; a route name may shadow a model name a platform offers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import BadRequest, NotFound
from app.models import ModelRoute, PlatformConfig
from app.models.model_route import DEPLOYMENT
from app.services.calls import routing

ROUTE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
ROUTE_STRATEGIES = ("ordered", "weighted", "most_remaining")


@dataclass(frozen=True)
class RouteDraft:
    targets: list[dict[str, Any]]
    strategy: str
    description: str


def check_name(name: str) -> str:
    if not ROUTE_NAME.match(name):
        raise BadRequest(
            "A route name is 1-100 letters, digits and `-._:`, starting with a letter or digit.",
            code="invalid_route_name",
        )
    return name


def check_targets(draft: RouteDraft, platforms: dict[str, PlatformConfig]) -> None:
    """Every target names a platform that exists and a model it offers."""
    if draft.strategy not in ROUTE_STRATEGIES:
        raise BadRequest(f"`strategy` is one of {', '.join(ROUTE_STRATEGIES)}.")
    for target in draft.targets:
        head, _, model = str(target["model"]).partition("/")
        platform = platforms.get(head)
        if platform is None:
            raise BadRequest(f"No platform {head!r} exists.", code="unknown_route_target")
        if model not in routing.offered(platform):
            raise BadRequest(
                f"{platform.platform_name} offers no model {model!r}.",
                code="unknown_route_target",
            )


async def save(
    session: AsyncSession,
    owner_id: int,
    name: str,
    draft: RouteDraft,
    platforms: dict[str, PlatformConfig],
) -> ModelRoute:
    check_name(name)
    check_targets(draft, platforms)
    row = await session.scalar(
        select(ModelRoute).where(ModelRoute.owner_id == owner_id, ModelRoute.name == name)
    )
    if row is None:
        row = ModelRoute(owner_id=owner_id, name=name)
        session.add(row)
    row.targets, row.strategy, row.description = draft.targets, draft.strategy, draft.description
    await session.flush()
    await session.refresh(row)
    return row


async def remove(session: AsyncSession, owner_id: int, name: str) -> None:
    gone = await session.execute(
        delete(ModelRoute).where(ModelRoute.owner_id == owner_id, ModelRoute.name == name)
    )
    if not gone.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"You have no route {name[:100]!r}.", code="route_not_found")


async def listed(session: AsyncSession, owner_ids: list[int]) -> list[ModelRoute]:
    rows = await session.scalars(
        select(ModelRoute)
        .where(ModelRoute.owner_id.in_(owner_ids))
        .order_by(ModelRoute.owner_id.desc(), ModelRoute.name)
    )
    return list(rows)


async def visible(session: AsyncSession, user_id: int) -> list[ModelRoute]:
    """The routes a user's calls see: their own, then the deployment's they do not shadow."""
    rows = await listed(session, [user_id, DEPLOYMENT])
    own = {row.name for row in rows if row.owner_id == user_id}
    return [row for row in rows if row.owner_id == user_id or row.name not in own]


async def find(session: AsyncSession, user_id: int, name: str) -> ModelRoute | None:
    """The route a call for `name` means for this user, if any."""
    if not ROUTE_NAME.match(name):
        return None
    rows = await session.scalars(
        select(ModelRoute).where(
            ModelRoute.owner_id.in_([user_id, DEPLOYMENT]), ModelRoute.name == name
        )
    )
    return max(rows, key=lambda row: row.owner_id != DEPLOYMENT, default=None)
