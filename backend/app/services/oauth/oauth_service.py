"""Accounts and their lifecycle: binding, listing, refreshing, enabling and deleting.

Every function takes the acting user and touches only that user's accounts: another user's
account is indistinguishable from a missing one (404).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.crypto import DecryptionError
from app.core.errors import BadRequest, NotFound, UnsupportedMethod
from app.models import OAuthAccount, PlatformConfig, User
from app.schemas.oauth import AccountOut, InitiateRequest, InitiateResult
from app.services import platforms
from app.services.oauth.credential_store import AccountSecrets, CredentialStore, mask


async def initiate(
    session: AsyncSession, store: CredentialStore, user: User, request: InitiateRequest
) -> InitiateResult:
    platform = await platforms.get_platform(session, request.platform)
    offered = platforms.login_methods(platform)
    if request.method not in offered:
        raise UnsupportedMethod(
            f"{platform.platform_name} cannot be bound with {request.method!r}; "
            f"supported methods: {', '.join(offered)}."
        )
    if request.method != "api_key":
        raise UnsupportedMethod(f"Binding by {request.method!r} is not available yet; use api_key.")
    api_key = request.credentials.get("api_key", "").strip()
    if not api_key:
        raise BadRequest('Binding by api_key needs credentials: {"api_key": "..."}.')
    account = OAuthAccount(
        user_id=user.id,
        platform_id=platform.platform_id,
        account_name=request.account_name,
        auth_method="api_key",
        credential_hint=mask(api_key),
    )
    session.add(account)
    await store.store(session, account, AccountSecrets(access_token=api_key))
    await session.flush()
    return InitiateResult(account=account_out(account, platform))


async def list_accounts(session: AsyncSession, user: User) -> list[AccountOut]:
    rows = await session.execute(
        select(OAuthAccount, PlatformConfig)
        .outerjoin(PlatformConfig, PlatformConfig.platform_id == OAuthAccount.platform_id)
        .where(OAuthAccount.user_id == user.id)
        .order_by(OAuthAccount.id)
    )
    return [account_out(account, platform) for account, platform in rows]


async def get_owned(session: AsyncSession, user: User, account_id: int) -> OAuthAccount:
    account = await session.scalar(
        select(OAuthAccount).where(OAuthAccount.id == account_id, OAuthAccount.user_id == user.id)
    )
    if account is None:
        raise NotFound(f"Account {account_id} not found.")
    return account


async def refresh(
    session: AsyncSession, store: CredentialStore, user: User, account_id: int
) -> AccountOut:
    """Re-check that the stored credential is usable and report the account's state."""
    account = await get_owned(session, user, account_id)
    try:
        store.load(account)
    except DecryptionError:
        account.is_expired = True
        account.status_reason = (
            "The stored credential can no longer be read; bind the account again."
        )
    await session.flush()
    return await _out(session, account)


async def toggle(session: AsyncSession, user: User, account_id: int) -> AccountOut:
    account = await get_owned(session, user, account_id)
    account.is_active = not account.is_active
    await session.flush()
    return await _out(session, account)


async def delete(session: AsyncSession, user: User, account_id: int) -> int:
    account = await get_owned(session, user, account_id)
    await session.delete(account)
    await session.flush()
    return account_id


async def _out(session: AsyncSession, account: OAuthAccount) -> AccountOut:
    platform = await session.scalar(
        select(PlatformConfig).where(PlatformConfig.platform_id == account.platform_id)
    )
    return account_out(account, platform)


def account_out(account: OAuthAccount, platform: PlatformConfig | None) -> AccountOut:
    if not account.is_active:
        status = "disabled"
    elif account.is_expired:
        status = "expired"
    else:
        status = "active"
    quota_limit = account.quota_limit
    if quota_limit is None and platform is not None and platform.quota_config:
        quota_limit = platform.quota_config.get("daily_limit")
    return AccountOut(
        id=account.id,
        platform_id=account.platform_id,
        platform_name=platform.platform_name if platform else account.platform_id,
        account_name=account.account_name,
        auth_method=account.auth_method,
        credential_hint=account.credential_hint,
        quota_used=account.quota_used,
        quota_limit=quota_limit,
        is_active=account.is_active,
        is_expired=account.is_expired,
        status=status,
        status_reason=account.status_reason,
        expires_at=account.expires_at,
        last_used_at=account.last_used_at,
        created_at=account.created_at,
        updated_at=account.updated_at,
    )
