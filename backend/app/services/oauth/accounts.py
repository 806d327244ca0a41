"""Creating accounts from a bound credential, and showing them to their owners."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import utcnow
from app.models import OAuthAccount, PlatformConfig
from app.schemas.oauth import AccountCallsOut, AccountOut, CooldownOut, LastError
from app.services.account_status import CallState, exhausted_by, shown_status, status_of
from app.services.calls import account_state
from app.services.oauth.adapters.base import BoundCredential
from app.services.oauth.adapters.errors import Classified
from app.services.oauth.credential_store import CredentialStore
from app.services.quota.quota_clock import next_reset
from app.services.request_log.store import AccountCalls


async def create_account(
    session: AsyncSession,
    store: CredentialStore,
    user_id: int,
    platform: PlatformConfig,
    account_name: str,
    method: str,
    bound: BoundCredential,
    limited: Classified | None = None,
) -> OAuthAccount:
    """A new account; `limited`: the platform said, when the credential was checked, that it is
    out of quota or rate-limited, so the account starts exhausted or cooling until its reset."""
    account = OAuthAccount(
        user_id=user_id,
        platform_id=platform.platform_id,
        account_name=account_name,
        auth_method=method,
        credential_hint=bound.hint,
        settings=bound.settings or None,
        expires_at=bound.expires_at,
    )
    session.add(account)
    await store.store(session, account, bound.secrets)
    await session.flush()
    if limited is not None:
        model = platform.litellm_config.get("default_model") or ""
        await account_state.apply_failure(
            session, user_id, account.id, model, platform, limited, utcnow()
        )
        await session.refresh(account)
    return account


def account_out(
    account: OAuthAccount,
    platform: PlatformConfig | None,
    state: CallState | None = None,
    calls: AccountCalls | None = None,
) -> AccountOut:
    state = state or CallState()
    now = utcnow()
    status = status_of(account, platform, state, now)
    return AccountOut(
        id=account.id,
        platform_id=account.platform_id,
        platform_name=platform.platform_name if platform else account.platform_id,
        account_name=account.account_name,
        auth_method=account.auth_method,
        credential_hint=account.credential_hint,
        quota_used=state.used_today,
        quota_limit=status.limit if platform is not None else account.quota_limit,
        is_active=account.is_active,
        is_expired=account.is_expired,
        status=status.status,
        shown_status=shown_status(status, platform),
        exhausted_by=exhausted_by(account, status, now),
        status_reason=account.status_reason,
        reset_at=status.reset_at,
        quota_reset_at=next_reset(platform, now) if platform is not None else None,
        cooldowns=[
            CooldownOut(model=c.model, reason=c.reason, until=c.until, message=c.message)
            for c in state.cooldowns
        ],
        expires_at=account.expires_at,
        last_used_at=account.last_used_at,
        calls=calls_out(calls) if calls is not None else None,
        created_at=account.created_at,
        updated_at=account.updated_at,
    )


def calls_out(calls: AccountCalls) -> AccountCallsOut:
    error = calls.last_error
    return AccountCallsOut(
        calls=calls.calls,
        success_rate=calls.success_rate,
        median_latency_ms=calls.median_latency_ms,
        last_error=LastError(
            at=error.created_at, status=error.status, error_kind=error.error_kind,
            error_code=error.error_code,
        ) if error is not None else None,
    )  # fmt: skip
