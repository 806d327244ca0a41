"""Recording sensitive operations. An event joins the caller's transaction, so it exists exactly
when the change it describes was committed; failures are recorded in a transaction of their own.

The request's client address and id come from the request context (set by the middleware).
`detail` must never hold a secret: callers pass names, ids and outcomes only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.logging import client_address_var, request_id_var
from app.models import AuditEvent, User


def record(
    session: AsyncSession,
    action: str,
    *,
    user_id: int | None,
    target: str | None = None,
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEvent(
            action=action,
            user_id=user_id,
            target=target,
            outcome=outcome,
            client=client_address_var.get(),
            request_id=request_id_var.get(),
            detail=detail,
        )
    )


async def record_separately(
    session: AsyncSession,
    action: str,
    *,
    user_id: int | None,
    target: str | None = None,
    outcome: str = "failure",
    detail: dict[str, Any] | None = None,
) -> None:
    """For outcomes whose request transaction is rolled back (a refused sign-in): a transaction
    of its own on the same database."""
    async with AsyncSession(bind=session.bind) as separate:
        record(separate, action, user_id=user_id, target=target, outcome=outcome, detail=detail)
        await separate.commit()


async def recent(
    session: AsyncSession,
    *,
    limit: int,
    before_id: int | None,
    action: str | None,
    user_id: int | None = None,
) -> list[tuple[AuditEvent, str | None]]:
    """The newest events first, each with the acting user's name (None: the system, or a
    sign-in under a name no user has)."""
    query = (
        select(AuditEvent, User.username)
        .outerjoin(User, User.id == AuditEvent.user_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    return [(event, username) for event, username in await session.execute(query)]
