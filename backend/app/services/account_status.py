"""An account's status — the one rule the account list, the call path's selection, the metrics
and the alerts all judge by:

    disabled   its owner switched it off
    expired    its credential was refused and could not be renewed
    exhausted  out of quota as a whole: the platform said so (until its reset hint), or its daily
               tokens are spent (until the next midnight of the platform's quota day)
    cooling    resting after a failure: from any model, or (for selection) from the model asked for
    active     none of these

The account list shows the same status (`shown_status`), except `platform_disabled` while an
administrator has the account's platform switched off, whatever the account's own state.

`reset_at` says when an exhausted or cooling account may serve again. What the status is judged
from besides the account's own row — today's tokens and its rests — is read by `load_states`
for a whole list of accounts in two queries; the call path reads the same from its cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AccountCooldown, OAuthAccount, PlatformConfig
from app.schemas.oauth import AccountStatus, ShownStatus
from app.services.quota import ledger
from app.services.quota.ledger import DayTotals
from app.services.quota.quota_clock import daily_limit, next_reset, quota_day

STATUSES: tuple[AccountStatus, ...] = get_args(AccountStatus)


@dataclass(frozen=True)
class Cooldown:
    """An account resting from one model (a row of `account_cooldowns`)."""

    model: str
    reason: str
    """rate_limited, overloaded or quota_exhausted (for that model only)."""
    until: datetime
    message: str | None = None


@dataclass(frozen=True)
class CallState:
    """An account's figures besides its own row: today's tokens and its rests."""

    today: DayTotals = field(default_factory=DayTotals)
    cooldowns: list[Cooldown] = field(default_factory=list)

    @property
    def used_today(self) -> int:
        return self.today.used


@dataclass(frozen=True)
class Status:
    status: AccountStatus
    reset_at: datetime | None = None
    """When an exhausted or cooling account may serve again."""
    reason: str | None = None
    """Why it waits: quota_exhausted, or its rest's reason."""
    limit: int | None = None
    """Tokens per day (None: no limit, or no platform config)."""
    remaining: int | None = None
    """Tokens new calls may still take today (calls in flight hold theirs); None: no limit."""


def status_of(
    account: OAuthAccount,
    platform: PlatformConfig | None,
    state: CallState,
    now: datetime,
    *,
    model: str | None = None,
) -> Status:
    """The account's status at `now`; with `model`, only its rest from that model counts."""
    limit = daily_limit(platform, account.quota_limit) if platform is not None else None
    used, reserved = state.today.used, state.today.reserved
    remaining = max(0, limit - used - reserved) if limit is not None else None
    rests = [
        c for c in state.cooldowns if c.until > now and (model is None or c.model == model[:100])
    ]
    status: AccountStatus = "active"
    reset_at = reason = None
    if not account.is_active:
        status = "disabled"
    elif account.is_expired:
        status = "expired"
    elif account.exhausted_until is not None and account.exhausted_until > now:
        status, reset_at, reason = "exhausted", account.exhausted_until, "quota_exhausted"
    elif platform is not None and limit is not None and used >= limit:
        status, reset_at, reason = "exhausted", next_reset(platform, now), "quota_exhausted"
    elif rests:
        first = min(rests, key=lambda c: c.until)
        status, reset_at, reason = "cooling", first.until, first.reason
    return Status(status, reset_at, reason, limit, remaining)


def shown_status(status: Status, platform: PlatformConfig | None) -> ShownStatus:
    if platform is not None and not platform.is_enabled:
        return "platform_disabled"
    return status.status


def exhausted_by(
    account: OAuthAccount, status: Status, now: datetime
) -> Literal["platform", "daily_limit"] | None:
    """Who says an exhausted account is out of quota: the platform (until its reset hint), or
    this service's count of the day's tokens."""
    if status.status != "exhausted":
        return None
    said = account.exhausted_until is not None and account.exhausted_until > now
    return "platform" if said else "daily_limit"


async def load_states(
    session: AsyncSession,
    accounts: Sequence[tuple[OAuthAccount, PlatformConfig | None]],
    now: datetime,
    *,
    every: bool = False,
) -> dict[int, CallState]:
    """Today's tokens and the current rests of each account, in two queries for the whole list
    (`every`: the list is every account, so neither query names them)."""
    days = {a.id: quota_day(p, now) for a, p in accounts if p is not None}
    ids = None if every else [a.id for a, _ in accounts]
    totals = await ledger.totals(session, ids, set(days.values()))
    rests = await load_cooldowns(session, ids, ending_after=now)
    states = {}
    for account, _ in accounts:
        day = days.get(account.id)
        today = totals.get((account.id, day)) if day is not None else None
        states[account.id] = CallState(today or DayTotals(), rests.get(account.id, []))
    return states


async def load_cooldowns(
    session: AsyncSession, account_ids: list[int] | None, *, ending_after: datetime | None
) -> dict[int, list[Cooldown]]:
    """The rests of those accounts (None: of every account), soonest end first; only those that
    end after `ending_after` when it is given."""
    if account_ids == []:
        return {}
    query = select(AccountCooldown).order_by(AccountCooldown.until)
    if account_ids is not None:
        query = query.where(AccountCooldown.account_id.in_(account_ids))
    if ending_after is not None:
        query = query.where(AccountCooldown.until > ending_after)
    rests: dict[int, list[Cooldown]] = {}
    for row in await session.scalars(query):
        rests.setdefault(row.account_id, []).append(
            Cooldown(row.model, row.reason, row.until, row.message)
        )
    return rests
