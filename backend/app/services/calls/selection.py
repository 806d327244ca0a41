"""Which of the caller's accounts may serve a call now, and which one does.

An account may serve when it is enabled, not expired, not exhausted (account-wide, or for this
model), not cooling down for this model, and under its daily token limit. Among those the choice
is round-robin per (user, platform) in this process, until the quota work brings its policy.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AccountCooldown, OAuthAccount, PlatformConfig
from app.services.calls import usage
from app.services.calls.quota_clock import daily_limit, next_reset, quota_day


@dataclass
class Availability:
    usable: list[OAuthAccount] = field(default_factory=list)
    """Accounts that may serve now, by id."""
    waiting_until: datetime | None = None
    """The earliest time an exhausted or cooling account may serve again."""
    waiting_reasons: set[str] = field(default_factory=set)
    """Why accounts wait: quota_exhausted, rate_limited, overloaded."""
    waiting: int = 0
    disabled: int = 0
    expired: list[OAuthAccount] = field(default_factory=list)
    stale_cooldowns: set[int] = field(default_factory=set)
    """Usable accounts with an ended cooldown row for this model (cleared by a success)."""
    stale_exhaustion: set[int] = field(default_factory=set)
    """Usable accounts whose account-wide exhaustion has ended (cleared by a success)."""

    @property
    def total(self) -> int:
        return len(self.usable) + self.disabled + len(self.expired) + self.waiting


async def availability(
    session: AsyncSession, user_id: int, platform: PlatformConfig, model: str, now: datetime
) -> Availability:
    accounts = list(
        await session.scalars(
            select(OAuthAccount)
            .where(
                OAuthAccount.user_id == user_id,
                OAuthAccount.platform_id == platform.platform_id,
            )
            .order_by(OAuthAccount.id)
        )
    )
    found = Availability()
    candidates = []
    for account in accounts:
        if not account.is_active:
            found.disabled += 1
        elif account.is_expired:
            found.expired.append(account)
        elif account.exhausted_until is not None and account.exhausted_until > now:
            _wait(found, account.exhausted_until, "quota_exhausted")
        else:
            if account.exhausted_until is not None:
                found.stale_exhaustion.add(account.id)
            candidates.append(account)
    if not candidates:
        return found
    ids = [a.id for a in candidates]
    rests = {
        row.account_id: row
        for row in await session.scalars(
            select(AccountCooldown).where(
                AccountCooldown.account_id.in_(ids), AccountCooldown.model == model[:100]
            )
        )
    }
    day = quota_day(platform, now)
    used = await usage.tokens_on(session, ids, {day})
    for account in candidates:
        rest = rests.get(account.id)
        limit = daily_limit(platform, account.quota_limit)
        if rest is not None and rest.until > now:
            _wait(found, rest.until, rest.reason)
        elif limit is not None and used.get((account.id, day), 0) >= limit:
            _wait(found, next_reset(platform, now), "quota_exhausted")
        else:
            if rest is not None:
                found.stale_cooldowns.add(account.id)
            found.usable.append(account)
    return found


def _wait(found: Availability, until: datetime, reason: str) -> None:
    found.waiting += 1
    found.waiting_reasons.add(reason)
    if found.waiting_until is None or until < found.waiting_until:
        found.waiting_until = until


class RoundRobin:
    """Turns through the usable accounts of each (user, platform), skipping those already tried
    in this call (unless every usable one was: then a network retry may reuse one)."""

    def __init__(self) -> None:
        self._turns: defaultdict[tuple[int, str], Iterator[int]] = defaultdict(itertools.count)

    def pick(
        self, user_id: int, platform_id: str, usable: list[OAuthAccount], tried: set[int]
    ) -> OAuthAccount | None:
        fresh = [a for a in usable if a.id not in tried] or usable
        if not fresh:
            return None
        return fresh[next(self._turns[(user_id, platform_id)]) % len(fresh)]
