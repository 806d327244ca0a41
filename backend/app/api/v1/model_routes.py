"""Model routes (app/services/model_routes.py): a user's own, and the deployment's for
administrators, in the same shape."""

from __future__ import annotations

from fastapi import APIRouter, Path

from app.api.deps import AdminUser, AppDep, CurrentUser, SessionDep
from app.models import ModelRoute
from app.models.model_route import DEPLOYMENT
from app.schemas.common import Envelope, ok
from app.schemas.model_routes import RouteOut, RouteRemoved, RouteSave
from app.services import model_routes
from app.services.model_routes import RouteDraft

router = APIRouter(prefix="/oauth/routes", tags=["routes"])
admin_router = APIRouter(prefix="/admin/routes", tags=["admin"])

RouteName = Path(min_length=1, max_length=100, description="the route's name")


def _out(row: ModelRoute) -> RouteOut:
    scope = "deployment" if row.owner_id == DEPLOYMENT else "user"
    return RouteOut.model_validate({**row.__dict__, "scope": scope})


async def _save(
    app: AppDep, session: SessionDep, owner: int, name: str, body: RouteSave
) -> RouteOut:
    platforms = await app.call_path.admission.cache.platforms(app.factory)
    draft = RouteDraft([t.model_dump() for t in body.targets], body.strategy, body.description)
    return _out(await model_routes.save(session, owner, name, draft, platforms))


@router.get("", response_model=Envelope[list[RouteOut]], summary="Your routes and the deployment's")
async def list_routes(
    app: AppDep, session: SessionDep, user: CurrentUser
) -> Envelope[list[RouteOut]]:
    platforms = await app.call_path.admission.cache.platforms(app.factory)
    rows = await model_routes.listed(session, [user.id, DEPLOYMENT], platforms)
    return ok([_out(row) for row in rows])


@router.put("/{name}", response_model=Envelope[RouteOut], summary="Create or replace your route")
async def save_route(
    body: RouteSave, app: AppDep, session: SessionDep, user: CurrentUser, name: str = RouteName
) -> Envelope[RouteOut]:
    return ok(await _save(app, session, user.id, name, body))


@router.delete("/{name}", response_model=Envelope[RouteRemoved], summary="Delete your route")
async def delete_route(
    session: SessionDep, user: CurrentUser, name: str = RouteName
) -> Envelope[RouteRemoved]:
    await model_routes.remove(session, user.id, name)
    return ok(RouteRemoved(name=name, scope="user"))


@admin_router.get("", response_model=Envelope[list[RouteOut]], summary="Deployment routes")
async def list_deployment_routes(
    app: AppDep, session: SessionDep, _admin: AdminUser
) -> Envelope[list[RouteOut]]:
    platforms = await app.call_path.admission.cache.platforms(app.factory)
    return ok([_out(row) for row in await model_routes.listed(session, [DEPLOYMENT], platforms)])


@admin_router.put(
    "/{name}", response_model=Envelope[RouteOut], summary="Create or replace a deployment route"
)
async def save_deployment_route(
    body: RouteSave, app: AppDep, session: SessionDep, _admin: AdminUser, name: str = RouteName
) -> Envelope[RouteOut]:
    return ok(await _save(app, session, DEPLOYMENT, name, body))


@admin_router.delete(
    "/{name}", response_model=Envelope[RouteRemoved], summary="Delete a deployment route"
)
async def delete_deployment_route(
    session: SessionDep, _admin: AdminUser, name: str = RouteName
) -> Envelope[RouteRemoved]:
    await model_routes.remove(session, DEPLOYMENT, name)
    return ok(RouteRemoved(name=name, scope="deployment"))
