"""Binding an account by device code (RFC 8628): the session `initiate` starts, and the poller
that asks the platform's token endpoint, at the interval it sets, whether the user has entered
the code. The session itself is an authorization session (`authorization_sessions`)."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import session_scope, utcnow
from app.core.errors import AppError, BadRequest
from app.models import AuthorizationSession, PlatformConfig, User
from app.schemas.oauth import InitiateRequest, InitiateResult
from app.services.context import AppContext
from app.services.oauth import oauth2_client
from app.services.oauth.authorization_sessions import (
    account_settings,
    bind_tokens,
    client_config,
    fail,
    seal,
    unseal,
)

logger = logging.getLogger(__name__)

SLOW_DOWN_STEP_S = 5  # RFC 8628 §3.5
DEFAULT_INTERVAL_S = 5  # RFC 8628 §3.2, when the server names none


def _interval(row: AuthorizationSession) -> int:
    return DEFAULT_INTERVAL_S if row.interval_s is None else row.interval_s


async def start_device(
    ctx: AppContext,
    session: AsyncSession,
    user: User,
    platform: PlatformConfig,
    request: InitiateRequest,
) -> InitiateResult:
    config = client_config(ctx, platform, "device")
    try:
        grant = await oauth2_client.start_device_authorization(config)
    except oauth2_client.ProviderError as exc:
        raise BadRequest(
            f"{platform.platform_name} refused to start a device authorization ({exc.error})."
        ) from exc
    state = secrets.token_urlsafe(32)
    lifetime = min(grant.expires_in, max(ctx.settings.oauth_state_expire, 60))
    now = utcnow()
    session.add(
        AuthorizationSession(
            state=state,
            user_id=user.id,
            platform_id=platform.platform_id,
            account_name=request.account_name,
            method="device",
            status="pending",
            expires_at=now + timedelta(seconds=lifetime),
            secret=seal(ctx, state, {"device_code": grant.device_code}),
            detail={
                "user_code": grant.user_code,
                "verification_uri": grant.verification_uri,
                "verification_uri_complete": grant.verification_uri_complete,
                "settings": account_settings(request),
            },
            interval_s=grant.interval,
            next_poll_at=now + timedelta(seconds=grant.interval),
        )
    )
    await session.flush()
    return InitiateResult(
        state=state,
        user_code=grant.user_code,
        verification_uri=grant.verification_uri,
        verification_uri_complete=grant.verification_uri_complete,
        expires_in=lifetime,
        interval=grant.interval,
    )


async def poll_device_sessions(ctx: AppContext) -> int:
    """Poll the token endpoint for every device session that is due; returns how many."""
    now = utcnow()
    async with ctx.factory() as session:
        due = list(
            await session.execute(
                select(AuthorizationSession.state, AuthorizationSession.next_poll_at).where(
                    AuthorizationSession.method == "device",
                    AuthorizationSession.status == "pending",
                    AuthorizationSession.next_poll_at <= now,
                )
            )
        )
    polled = 0
    for state, seen in due:
        if await _claim_poll(ctx, state, seen):
            polled += 1
            await _poll_one(ctx, state)
    return polled


async def _claim_poll(ctx: AppContext, state: str, seen: Any) -> bool:
    """Move next_poll_at forward only if no other worker did: that worker then owns this poll."""
    async with session_scope(ctx.factory) as session:
        row = await session.get(AuthorizationSession, state)
        if row is None:
            return False
        result = await session.execute(
            update(AuthorizationSession)
            .where(AuthorizationSession.state == state, AuthorizationSession.next_poll_at == seen)
            .values(next_poll_at=utcnow() + timedelta(seconds=_interval(row)))
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))


async def _poll_one(ctx: AppContext, state: str) -> None:
    async with ctx.factory() as session:
        row = await session.get(AuthorizationSession, state)
        if row is None:
            return
        platform = await session.scalar(
            select(PlatformConfig).where(PlatformConfig.platform_id == row.platform_id)
        )
        device_code = unseal(ctx, row).get("device_code", "")
        expired = row.expires_at < utcnow()
        user_id, account_name = row.user_id, row.account_name
        settings = dict((row.detail or {}).get("settings") or {})
    if platform is None:
        await fail(ctx, state, failure="The platform of this authorization no longer exists.")
        return
    if expired:
        await fail(ctx, state, failure="The code was not entered in time.", status="expired")
        return
    try:
        tokens = await oauth2_client.poll_device_token(
            client_config(ctx, platform, "device"), device_code
        )
    except oauth2_client.ProviderError as exc:
        await _device_error(ctx, state, platform, exc)
        return
    except AppError as exc:  # unreachable, 5xx or a stall: the session ends with the reason
        logger.warning("device poll for %s failed: %s", platform.platform_id, exc.message)
        await fail(ctx, state, failure=exc.message)
        return
    await bind_tokens(ctx, state, platform, user_id, account_name, "device", tokens, settings)


async def _device_error(
    ctx: AppContext, state: str, platform: PlatformConfig, exc: oauth2_client.ProviderError
) -> None:
    if exc.error == "authorization_pending":
        return
    if exc.error == "slow_down":
        async with session_scope(ctx.factory) as session:
            row = await session.get(AuthorizationSession, state)
            if row is not None:
                row.interval_s = _interval(row) + SLOW_DOWN_STEP_S
                row.next_poll_at = utcnow() + timedelta(seconds=row.interval_s)
        return
    if exc.error == "expired_token":
        await fail(ctx, state, failure="The code expired before it was entered.", status="expired")
    elif exc.error == "access_denied":
        await fail(ctx, state, failure="You declined the authorization.")
    else:
        await fail(ctx, state, failure=f"{platform.platform_name} answered {exc.error}.")
