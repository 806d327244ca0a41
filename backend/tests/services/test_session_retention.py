"""Ended authorization sessions are kept OAUTH_SESSION_RETENTION_SECONDS for their owner to read,
then deleted by the sweeper; unfinished ones are left to run (or expire) first."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import timedelta

from sqlalchemy import select

from app.api.deps import app_context
from app.core.database import session_scope, utcnow
from app.models import AuthorizationSession, User
from app.services.background import BackgroundJobs


async def test_ended_sessions_are_deleted_after_the_retention(app):
    ctx = app_context(app)
    now = utcnow()
    names = ("old_completed", "old_failed", "old_expired", "recent_failed", "old_pending")
    states = {name: secrets.token_urlsafe(16) for name in names}
    async with session_scope(ctx.factory) as session:
        user = User(username=f"ret-{secrets.token_hex(4)}", password_hash=None)
        session.add(user)
        await session.flush()
        for name, state in states.items():
            status = name.split("_", 1)[1]
            at = now - (timedelta(days=2) if name.startswith("old") else timedelta(minutes=5))
            session.add(AuthorizationSession(
                state=state, user_id=user.id, platform_id="qwen", account_name="a",
                method="oauth", status=status, created_at=at, updated_at=at,
                expires_at=now + timedelta(minutes=5) if status == "pending" else at,
            ))  # fmt: skip
    settings = ctx.settings.model_copy(update={"oauth_session_retention_seconds": 86_400})
    jobs = BackgroundJobs(dataclasses.replace(ctx, settings=settings))
    assert await jobs.prune_ended_sessions() >= 3
    async with ctx.factory() as session:
        left = set(
            await session.scalars(
                select(AuthorizationSession.state).where(
                    AuthorizationSession.state.in_(states.values())
                )
            )
        )
    assert left == {states["recent_failed"], states["old_pending"]}


async def test_a_browser_login_that_expires_loses_its_screenshot(app):
    from app.services.oauth import authorization_sessions

    ctx = app_context(app)
    state, now = secrets.token_urlsafe(16), utcnow()
    async with session_scope(ctx.factory) as session:
        user = User(username=f"shot-{secrets.token_hex(4)}", password_hash=None)
        session.add(user)
        await session.flush()
        session.add(AuthorizationSession(
            state=state, user_id=user.id, platform_id="qwen", account_name="a", method="browser",
            status="needs_user_action", expires_at=now - timedelta(seconds=1),
            detail={"reason": "code", "screenshot": "enc:v1:test:AAAA"},
        ))  # fmt: skip
    async with session_scope(ctx.factory) as session:
        assert await authorization_sessions.end_overdue(session, utcnow()) >= 1
    async with ctx.factory() as session:
        row = await session.get(AuthorizationSession, state)
    assert row.status == "expired" and not (row.detail or {}).get("screenshot")
