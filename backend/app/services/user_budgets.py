"""Budgets on users, set by administrators: every call the user makes, with any key or a JWT,
counts on them as well as on its key's (quota/budgets.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import utcnow
from app.core.errors import NotFound
from app.models import User
from app.schemas.budgets import UserBudgetsOut
from app.services import audit
from app.services.quota import budget_use


async def shown(session: AsyncSession, user: User) -> UserBudgetsOut:
    uses = await budget_use.standing(session, "user", {user.id: user.limits}, utcnow())
    return UserBudgetsOut(
        id=user.id, username=user.username, limits=user.limits, budgets=uses[user.id]
    )


async def find(session: AsyncSession, user_id: int) -> User:
    user = await session.scalar(select(User).where(User.id == user_id))
    if user is None:
        raise NotFound(f"User {user_id} not found.")
    return user


async def set_limits(
    session: AsyncSession, admin: User, user_id: int, limits: dict[str, Any] | None
) -> User:
    """Set (None: lift) a user's budgets; a change to a user drops the cached API keys, so the
    next call counts on the new ones."""
    user = await find(session, user_id)
    user.limits = limits
    await session.flush()
    audit.record(session, "user.limits", user_id=admin.id, target=f"user:{user_id}")
    return user
