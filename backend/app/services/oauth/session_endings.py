"""The end of an authorization session: cancelled by its owner, and deleted once it has been
over for OAUTH_SESSION_RETENTION_SECONDS."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, NotFound
from app.models import AuthorizationSession, User
from app.services import audit
from app.services.oauth.authorization_sessions import UNFINISHED, without_screenshot


async def cancel(session: AsyncSession, user: User, state: str) -> None:
    """End the user's unfinished authorization: a callback, poll or login after it binds
    nothing."""
    row = await session.scalar(
        select(AuthorizationSession).where(
            AuthorizationSession.state == state, AuthorizationSession.user_id == user.id
        )
    )
    if row is None:
        raise NotFound("No such authorization session.")
    if row.status not in ("pending", "needs_user_action"):
        raise Conflict("This authorization has ended already.")
    row.status, row.error, row.secret = "failed", "Cancelled by its owner.", None
    row.detail = without_screenshot(row.detail)
    audit.record(
        session, "authorization.end", user_id=user.id, target=f"platform:{row.platform_id}",
        outcome="cancelled", detail={"method": row.method},
    )  # fmt: skip


async def prune_ended(session: AsyncSession, before: datetime) -> int:
    """Delete the sessions that ended before `before` (OAUTH_SESSION_RETENTION_SECONDS ago)."""
    result = await session.execute(
        delete(AuthorizationSession)
        .where(
            AuthorizationSession.status.not_in(UNFINISHED),
            AuthorizationSession.updated_at < before,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
