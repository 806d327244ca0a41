"""Budgets on users: set by administrators, seen by the user they cap."""

from __future__ import annotations

from fastapi import APIRouter, Path

from app.api.deps import AdminUser, CurrentUser, SessionDep
from app.schemas.budgets import UserBudgetsEdit, UserBudgetsOut
from app.schemas.common import Envelope, ok
from app.services import user_budgets

router = APIRouter(tags=["budgets"])

UserId = Path(ge=1, le=2**63 - 1, description="the user's id")


@router.get("/auth/me/budgets", response_model=Envelope[UserBudgetsOut], summary="Your budgets")
async def my_budgets(session: SessionDep, user: CurrentUser) -> Envelope[UserBudgetsOut]:
    return ok(await user_budgets.shown(session, user))


@router.get(
    "/admin/users/{user_id}", response_model=Envelope[UserBudgetsOut], summary="A user's budgets"
)
async def user_budgets_of(
    session: SessionDep, _admin: AdminUser, user_id: int = UserId
) -> Envelope[UserBudgetsOut]:
    return ok(await user_budgets.shown(session, await user_budgets.find(session, user_id)))


@router.patch(
    "/admin/users/{user_id}", response_model=Envelope[UserBudgetsOut], summary="Set budgets"
)
async def set_user_budgets(
    body: UserBudgetsEdit, session: SessionDep, admin: AdminUser, user_id: int = UserId
) -> Envelope[UserBudgetsOut]:
    limits = body.limits.model_dump(exclude_none=True) if body.limits else None
    user = await user_budgets.set_limits(session, admin, user_id, limits)
    return ok(await user_budgets.shown(session, user))
