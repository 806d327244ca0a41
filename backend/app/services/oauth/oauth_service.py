"""Accounts and their lifecycle: binding, listing, refreshing, enabling and deleting.

Every function takes the acting user and touches only that user's accounts: another user's
account is indistinguishable from a missing one (404).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import utcnow
from app.core.errors import NotFound, UnsupportedMethod
from app.models import OAuthAccount, PlatformConfig, User
from app.schemas.oauth import (
    AccountOut,
    InitiateRequest,
    InitiateResult,
    QuotaOut,
    RefreshResult,
)
from app.services import audit, platforms
from app.services.account_status import load_states
from app.services.context import AppContext
from app.services.oauth import authorization_sessions, device_sessions
from app.services.oauth.accounts import account_out, create_account
from app.services.oauth.adapters import create_adapter
from app.services.request_log import store as request_log


async def initiate(
    ctx: AppContext,
    session: AsyncSession,
    user: User,
    request: InitiateRequest,
) -> InitiateResult:
    platform = await platforms.get_platform(session, request.platform)
    unavailable = ctx.browser_logins.unavailable_methods()
    offered = platforms.login_methods(platform, unavailable)
    method = request.method or next(iter(offered), "api_key")
    if method in unavailable and method in platforms.login_methods(platform):
        raise UnsupportedMethod(
            f"{platform.platform_name} cannot be bound with {method!r} on "
            f"this service now: {unavailable[method]}"
        )
    if method not in offered:
        raise UnsupportedMethod(
            f"{platform.platform_name} cannot be bound with {method!r}; "
            f"supported methods: {', '.join(offered)}."
        )
    if method == "api_key":
        adapter = create_adapter(platform, ctx.http)
        bound, limited = await adapter.checked(adapter.parse_key_credentials(request.credentials))
        account = await create_account(
            session, ctx.store, user.id, platform, request.account_name, "api_key", bound, limited
        )
        audit.record(
            session, "account.create", user_id=user.id, target=f"account:{account.id}",
            detail={"platform": platform.platform_id, "method": "api_key"},
        )  # fmt: skip
        states = await load_states(session, [(account, platform)], utcnow())
        return InitiateResult(account=account_out(account, platform, states.get(account.id)))
    if method == "oauth":
        return await authorization_sessions.start_oauth(ctx, session, user, platform, request)
    if method == "device":
        return await device_sessions.start_device(ctx, session, user, platform, request)
    if method == "browser":
        return await ctx.browser_logins.start(user, platform, request)
    raise UnsupportedMethod(f"Binding by {method!r} is not available on this service yet.")


async def list_accounts(session: AsyncSession, user: User) -> list[AccountOut]:
    rows = await session.execute(
        select(OAuthAccount, PlatformConfig)
        .outerjoin(PlatformConfig, PlatformConfig.platform_id == OAuthAccount.platform_id)
        .where(OAuthAccount.user_id == user.id)
        .order_by(OAuthAccount.id)
    )
    pairs = [(account, platform) for account, platform in rows]
    now = utcnow()
    states = await load_states(session, pairs, now)
    calls = await request_log.account_calls(
        session, [account.id for account, _ in pairs], now - timedelta(days=1)
    )
    return [
        account_out(account, platform, states.get(account.id), calls.get(account.id))
        for account, platform in pairs
    ]


async def get_owned(session: AsyncSession, user: User, account_id: int) -> OAuthAccount:
    account = await session.scalar(
        select(OAuthAccount).where(OAuthAccount.id == account_id, OAuthAccount.user_id == user.id)
    )
    if account is None:
        raise NotFound(f"Account {account_id} not found.")
    return account


async def quota(session: AsyncSession, user: User, account_id: int) -> QuotaOut:
    """Today's figures from the service's ledger: no platform tells a console key's balance or
    quota by API (platforms.md §1)."""
    account = await get_owned(session, user, account_id)
    platform = await session.scalar(
        select(PlatformConfig).where(PlatformConfig.platform_id == account.platform_id)
    )
    states = await load_states(session, [(account, platform)], utcnow())
    shown = account_out(account, platform, states.get(account.id))
    return QuotaOut(
        used=shown.quota_used, limit=shown.quota_limit, reset_at=shown.quota_reset_at,
        source="ledger",
    )  # fmt: skip


async def refresh(
    ctx: AppContext, session: AsyncSession, user: User, account_id: int
) -> RefreshResult:
    """Renew the credential where it can be renewed, else check it with the platform."""
    await get_owned(session, user, account_id)
    outcome = await ctx.renewer.renew(account_id, revalidate=True)
    audit.record(
        session, "account.refresh", user_id=user.id, target=f"account:{account_id}",
        outcome=outcome.outcome,
    )  # fmt: skip
    account = await get_owned(session, user, account_id)
    await session.refresh(account)
    return RefreshResult(
        outcome=outcome.outcome, message=outcome.message, account=await _out(session, account)
    )


async def toggle(session: AsyncSession, user: User, account_id: int) -> AccountOut:
    account = await get_owned(session, user, account_id)
    account.is_active = not account.is_active
    action = "account.enable" if account.is_active else "account.disable"
    audit.record(session, action, user_id=user.id, target=f"account:{account_id}")
    await session.flush()
    return await _out(session, account)


async def delete(session: AsyncSession, user: User, account_id: int) -> int:
    account = await get_owned(session, user, account_id)
    await session.delete(account)
    audit.record(
        session, "account.delete", user_id=user.id, target=f"account:{account_id}",
        detail={"platform": account.platform_id},
    )  # fmt: skip
    await session.flush()
    return account_id


async def _out(session: AsyncSession, account: OAuthAccount) -> AccountOut:
    platform = await session.scalar(
        select(PlatformConfig).where(PlatformConfig.platform_id == account.platform_id)
    )
    states = await load_states(session, [(account, platform)], utcnow())
    return account_out(account, platform, states.get(account.id))
