"""Model routes: saved, listed, removed and found for a call.

A route is a name (letters, digits and `-._:`, never `/`) standing for `platform/model` targets
and a strategy (calls/route_plan.py orders them). A user's own route shadows the deployment's of
the same name, for that user only; a route name may shadow a model name a platform offers.

Calls find routes in the call path's cache (calls/account_cache.py): every change to the routes,
made through the ORM or by a bulk statement, announces `ROUTES` (listeners below), so every
worker and instance sees it from the next call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from app.core.cache import changed
from app.core.errors import BadRequest, NotFound
from app.models import ModelRoute, PlatformConfig
from app.models.model_route import DEPLOYMENT
from app.services.calls import routing

ROUTE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
ROUTE_STRATEGIES = ("ordered", "weighted", "most_remaining")
ROUTES = "routes"
"""The cache namespace every change to the routes bumps."""
FREE = "free"
"""The shipped deployment route: the models the platform configs mark `free_tier`."""


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


def free_route(platforms: dict[str, PlatformConfig]) -> ModelRoute:
    """The shipped `free` route, as the enabled platforms' `free_tier` marks make it now (a
    deployment route saved under the name replaces it)."""
    targets = [
        {"model": f"{platform.platform_id}/{model}", "weight": 1}
        for platform in platforms.values()
        if platform.is_enabled
        for model in platform.litellm_config.get("free_tier") or []
    ]
    return ModelRoute(
        owner_id=DEPLOYMENT,
        name=FREE,
        strategy="most_remaining",
        targets=targets,
        description="The models with free quota, the one with the most left first.",
    )


async def rows_of(session: AsyncSession, owner_ids: list[int]) -> list[ModelRoute]:
    """The saved routes of these owners, the users' before the deployment's, by name."""
    query = (
        select(ModelRoute)
        .where(ModelRoute.owner_id.in_(owner_ids))
        .order_by(ModelRoute.owner_id.desc(), ModelRoute.name)
    )
    return list(await session.scalars(query))


async def listed(
    session: AsyncSession, owner_ids: list[int], platforms: dict[str, PlatformConfig]
) -> list[ModelRoute]:
    rows = await rows_of(session, owner_ids)
    if DEPLOYMENT in owner_ids and not any(
        row.owner_id == DEPLOYMENT and row.name == FREE for row in rows
    ):
        rows.append(free_route(platforms))
    return rows


async def visible(
    session: AsyncSession, user_id: int, platforms: dict[str, PlatformConfig]
) -> list[ModelRoute]:
    """The routes a user's calls see: their own, then the deployment's they do not shadow."""
    rows = await listed(session, [user_id, DEPLOYMENT], platforms)
    own = {row.name for row in rows if row.owner_id == user_id}
    return [row for row in rows if row.owner_id == user_id or row.name not in own]


def find(
    rows: list[ModelRoute], name: str, platforms: dict[str, PlatformConfig]
) -> ModelRoute | None:
    """The route a call for `name` means, among a user's and the deployment's saved routes."""
    if not ROUTE_NAME.match(name):
        return None
    named = [row for row in rows if row.name == name]
    found = max(named, key=lambda row: row.owner_id != DEPLOYMENT, default=None)
    return free_route(platforms) if found is None and name == FREE else found


async def with_routes(
    session: AsyncSession, user_id: int, entries: list[routing.ModelEntry]
) -> list[routing.ModelEntry]:
    """A user's model list with the routes they see (`owned_by: "route"`), a route winning over
    a model of the same plain name."""
    rows = await visible(session, user_id, await routing.load_platforms(session))
    names = {row.name for row in rows}
    routes = [
        routing.ModelEntry(
            row.name, "route", int(row.created_at.timestamp()) if row.created_at else 0
        )
        for row in rows
    ]
    return [entry for entry in entries if entry.id not in names] + routes


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _context: Any) -> None:
    if any(isinstance(obj, ModelRoute) for obj in (*session.new, *session.dirty, *session.deleted)):
        changed(session, ROUTES)


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(
        m.entity is ModelRoute for m in state.all_mappers
    ):
        changed(state.session, ROUTES)
