"""Each account as the call path sees it now — usable, resting, out of quota, expired or off (the
rule of `account_status`) — with its tokens used and left on its platform's quota day. Read by the
metrics scrape and the alert checks, in three queries however many accounts there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from app.models import OAuthAccount, PlatformConfig
from app.schemas.oauth import AccountStatus
from app.services.account_status import load_states, status_of

_STATE_COLUMNS = (
    OAuthAccount.id,
    OAuthAccount.user_id,
    OAuthAccount.platform_id,
    OAuthAccount.account_name,
    OAuthAccount.quota_limit,
    OAuthAccount.is_active,
    OAuthAccount.is_expired,
    OAuthAccount.exhausted_until,
)


@dataclass(frozen=True)
class AccountHealth:
    account_id: int
    user_id: int
    platform_id: str
    platform_name: str
    account_name: str | None
    state: AccountStatus
    used_today: int
    remaining_today: int | None
    """Tokens new calls may still take today (calls in flight hold theirs); None: no limit."""
    usable_again_at: datetime | None
    """For an exhausted account: the platform's reset hint, else the next quota day."""


async def load(
    session: AsyncSession,
    now: datetime,
    *,
    user_id: int | None = None,
    platform_id: str | None = None,
) -> list[AccountHealth]:
    """Every account (or one user's, or one platform's), oldest first."""
    query = (
        select(OAuthAccount, PlatformConfig)
        .outerjoin(PlatformConfig, PlatformConfig.platform_id == OAuthAccount.platform_id)
        # Never the credential columns: monitoring has no use for ciphertext, which can be large.
        .options(load_only(*_STATE_COLUMNS))
        .order_by(OAuthAccount.id)
    )
    if user_id is not None:
        query = query.where(OAuthAccount.user_id == user_id)
    if platform_id is not None:
        query = query.where(OAuthAccount.platform_id == platform_id)
    rows = [(account, platform) for account, platform in await session.execute(query)]
    if not rows:
        return []
    every = user_id is None and platform_id is None
    states = await load_states(session, rows, now, every=every)
    health = []
    for account, platform in rows:
        state = states[account.id]
        status = status_of(account, platform, state, now)
        health.append(
            AccountHealth(
                account_id=account.id,
                user_id=account.user_id,
                platform_id=account.platform_id,
                platform_name=platform.platform_name if platform else account.platform_id,
                account_name=account.account_name,
                state=status.status,
                used_today=state.used_today,
                remaining_today=status.remaining,
                usable_again_at=status.reset_at if status.status == "exhausted" else None,
            )
        )
    return health
