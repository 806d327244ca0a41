"""What a failed call does to its account (how the account then looks: `account_status`).

    quota_exhausted  account-wide: `oauth_accounts.exhausted_until`; one model: a cooldown row
                     with reason quota_exhausted; until the platform's reset hint, else the next
                     midnight of the platform's quota day
    rate_limited     cooldown row for (account, model) until the retry hint, else backoff
                     (1 s, 2 s, 4 s … for consecutive failures, at most 30 min)
    overloaded       a short cooldown row for (account, model)
    auth_expired     the account is marked expired (after the one refresh failed)

Every state ends by itself when its time passes: the call path simply stops skipping the account,
and the next call that succeeds on it clears the state. The states live in the database, so every
worker, instance and restart sees the same deadline; each change drops the owner's cached
accounts everywhere.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import utcnow
from app.core.upsert import upsert
from app.models import AccountCooldown, OAuthAccount, PlatformConfig
from app.services.calls.account_cache import accounts_changed
from app.services.oauth.adapters.errors import Classified
from app.services.quota.quota_clock import next_reset

OVERLOAD_COOLDOWN_S = 10.0
BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 1800.0


def backoff_s(failures: int) -> float:
    return min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2.0 ** max(0, failures - 1))


async def apply_failure(
    session: AsyncSession,
    user_id: int,
    account_id: int,
    model: str,
    platform: PlatformConfig,
    failure: Classified,
    now: datetime,
) -> None:
    """Put the account in the state the failure's class asks for (auth: see mark_expired)."""
    accounts_changed(session, user_id)
    if failure.kind == "quota_exhausted":
        reset = failure.reset_at if failure.reset_at and failure.reset_at > now else None
        until = reset or next_reset(platform, now)
        if failure.scope == "model":
            await _rest(session, account_id, model, "quota_exhausted", until, failure.message)
        else:
            await session.execute(
                update(OAuthAccount)
                .where(OAuthAccount.id == account_id)
                .values(exhausted_until=until, status_reason=_reason(platform, failure))
                .execution_options(synchronize_session=False)
            )
    elif failure.kind in ("rate_limited", "overloaded"):
        previous = await session.scalar(
            select(AccountCooldown.failures).where(
                AccountCooldown.account_id == account_id, AccountCooldown.model == model[:100]
            )
        )
        failures = (previous or 0) + 1
        default = OVERLOAD_COOLDOWN_S if failure.kind == "overloaded" else backoff_s(failures)
        wait = failure.retry_after_s if failure.retry_after_s else default
        until = now + timedelta(seconds=wait)
        await _rest(session, account_id, model, failure.kind, until, failure.message, failures)


async def mark_expired(session: AsyncSession, user_id: int, account_id: int, reason: str) -> None:
    accounts_changed(session, user_id)
    await session.execute(
        update(OAuthAccount)
        .where(OAuthAccount.id == account_id)
        .values(is_expired=True, status_reason=reason[:255])
        .execution_options(synchronize_session=False)
    )


async def clear_after_success(
    session: AsyncSession,
    user_id: int,
    account_id: int,
    model: str,
    *,
    cooldown: bool,
    exhausted: bool,
) -> None:
    """An answered call ends the backoff streak and any stale exhaustion note."""
    accounts_changed(session, user_id)
    if cooldown:
        await session.execute(
            delete(AccountCooldown).where(
                AccountCooldown.account_id == account_id, AccountCooldown.model == model[:100]
            )
        )
    if exhausted:
        await session.execute(
            update(OAuthAccount)
            .where(OAuthAccount.id == account_id)
            .values(exhausted_until=None, status_reason=None)
            .execution_options(synchronize_session=False)
        )


async def _rest(
    session: AsyncSession,
    account_id: int,
    model: str,
    reason: str,
    until: datetime,
    message: str,
    failures: int = 1,
) -> None:
    row = {
        "account_id": account_id,
        "model": model[:100],
        "reason": reason,
        "until": until,
        "failures": failures,
        "message": message[:255],
        "updated_at": utcnow(),
    }
    await upsert(
        session,
        AccountCooldown.__table__,  # type: ignore[arg-type]
        row,
        replace=("reason", "until", "failures", "message", "updated_at"),
    )


def _reason(platform: PlatformConfig, failure: Classified) -> str:
    return f"{platform.platform_name} says the account is out of quota: {failure.message}"[:255]
