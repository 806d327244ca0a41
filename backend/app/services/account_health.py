"""Each account as the call path sees it now — usable, resting, out of quota, expired or off —
with its tokens used and left on its platform's quota day. Read by the metrics scrape and the
alert checks, in three queries however many accounts there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from app.models import AccountCooldown, OAuthAccount, PlatformConfig
from app.services.quota.ledger import DayTotals, totals
from app.services.quota.quota_clock import daily_limit, next_reset, quota_day

AccountState = Literal["active", "disabled", "expired", "exhausted", "cooling"]
ACCOUNT_STATES: tuple[AccountState, ...] = ("active", "disabled", "expired", "exhausted", "cooling")
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
    state: AccountState
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
    narrowed = user_id is not None or platform_id is not None
    ids = [account.id for account, _ in rows]
    days = {account.id: quota_day(p, now) for account, p in rows if p is not None}
    ledger = await totals(session, ids if narrowed else None, set(days.values()))
    resting = select(AccountCooldown.account_id).where(AccountCooldown.until > now).distinct()
    if narrowed:
        resting = resting.where(AccountCooldown.account_id.in_(ids))
    cooling = set(await session.scalars(resting))
    today = {account_id: ledger.get((account_id, day)) for account_id, day in days.items()}
    return [
        _health(account, platform, today.get(account.id), cooling, now)
        for account, platform in rows
    ]


def _health(
    account: OAuthAccount,
    platform: PlatformConfig | None,
    tokens: DayTotals | None,
    cooling: set[int],
    now: datetime,
) -> AccountHealth:
    used, reserved = (tokens.used, tokens.reserved) if tokens else (0, 0)
    limit = daily_limit(platform, account.quota_limit) if platform is not None else None
    over_limit = limit is not None and used >= limit
    exhausted_until = account.exhausted_until
    state: AccountState = "active"
    usable_again_at = None
    if not account.is_active:
        state = "disabled"
    elif account.is_expired:
        state = "expired"
    elif (exhausted_until is not None and exhausted_until > now) or over_limit:
        state = "exhausted"
        if exhausted_until is not None and exhausted_until > now:
            usable_again_at = exhausted_until
        elif platform is not None:
            usable_again_at = next_reset(platform, now)
    elif account.id in cooling:
        state = "cooling"
    return AccountHealth(
        account_id=account.id,
        user_id=account.user_id,
        platform_id=account.platform_id,
        platform_name=platform.platform_name if platform else account.platform_id,
        account_name=account.account_name,
        state=state,
        used_today=used,
        remaining_today=max(0, limit - used - reserved) if limit is not None else None,
        usable_again_at=usable_again_at,
    )
