"""Admitting a call to an account: the survey of the caller's accounts, the order to try them in,
and the three checks that count something, made only for the account actually tried:

    concurrency   a ticket among the account's calls in flight (when capped or least_busy)
    rate limit    one request in the account's requests per minute (core/rate_limit.py)
    quota         a reservation of the call's estimate (when it has a daily limit): from a block
                  this process holds (quota/allowances.py), else in the ledger

An account that fails a check waits (busy, rate_limited, held, quota_exhausted) and the next is
tried; `busy` and `held` (its last tokens reserved by calls in flight) last only until calls end.
What was taken is given back by `withdraw` (`withdraw_committed`) when the call is not made, and
the ticket by `leave` once it is over; the reservation is settled or released with the call's
books.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import retried
from app.core.inflight import InFlight
from app.core.rate_limit import RateLimiter
from app.models import OAuthAccount, PlatformConfig
from app.services.calls.account_cache import CallCache
from app.services.calls.selection import Availability, Policy, Turns, availability, order
from app.services.quota import ledger
from app.services.quota.allowances import GIVE_BACK_RETRY_S, Allowances, Block
from app.services.quota.quota_clock import daily_limit, next_reset, quota_day

BUSY_RETRY_S = 1.0
QUEUEING = frozenset({"busy", "held"})
"""Waits that end as soon as a call in flight ends: worth queueing for."""


@dataclass(frozen=True)
class Admitted:
    account: OAuthAccount
    day: date
    """The quota day the call is counted on."""
    hold: ledger.Hold | None
    """The call's own reservation, or None (no daily limit, or drawn from `block`)."""
    ticket: str | None
    block: Block | None = None
    estimate: int = 0


class Admission:
    def __init__(
        self,
        cache: CallCache,
        inflight: InFlight,
        limiter: RateLimiter,
        allowances: Allowances,
    ) -> None:
        self.cache = cache
        self.inflight = inflight
        self.limiter = limiter
        self.allowances = allowances
        self.hold_s = allowances.hold_s
        self._turns = Turns()

    async def survey(
        self,
        session: AsyncSession,
        user_id: int,
        platform: PlatformConfig,
        model: str,
        now: datetime,
        *,
        full: bool = False,
    ) -> Availability:
        """The caller's accounts on the platform as they stand for `model`. Today's quota figures
        are read when they order the accounts (two or more with a limit) or when `full`: one
        account alone needs none, its reservation says whether it has room."""
        found = await self.cache.accounts(session, user_id, platform.platform_id)
        limited = [a.id for a in found.accounts if daily_limit(platform, a.quota_limit) is not None]
        day = quota_day(platform, now)
        totals = await ledger.totals(session, limited if full or len(limited) > 1 else [], {day})
        return availability(
            found.accounts,
            found.cooldowns,
            {
                # This process's blocks are reserved in the ledger yet free for its calls.
                account_id: ledger.DayTotals(
                    t.used, t.reserved - self.allowances.room(account_id, day)
                )
                for (account_id, _), t in totals.items()
            },
            platform,
            model,
            now,
        )

    async def candidates(
        self, user_id: int, platform: PlatformConfig, found: Availability, tried: set[int]
    ) -> list[OAuthAccount]:
        policy = Policy.of(platform)
        busy = (
            await self._busy([a.id for a in found.usable])
            if policy.strategy == "least_busy"
            else {}
        )
        turn = self._turns.next(user_id, platform.platform_id)
        return order(policy.strategy, found.usable, found.remaining, busy, turn, tried)

    async def admit(
        self,
        session: AsyncSession,
        account: OAuthAccount,
        platform: PlatformConfig,
        found: Availability,
        estimate: int,
        now: datetime,
    ) -> Admitted | None:
        """Take a ticket, a request and a reservation on `account`, or None (it now waits)."""
        policy = Policy.of(platform)
        key = str(account.id)
        ticket = None
        if policy.counts_in_flight:
            ticket = await self.inflight.acquire(key, policy.max_concurrency)
            if ticket is None:
                found.wait(account, now + timedelta(seconds=BUSY_RETRY_S), "busy")
                return None
        if policy.rate_limit is not None:
            per_minute = self.limiter.item(f"{policy.rate_limit}/minute")
            if not await self.limiter.hit(per_minute, "account", key):
                retry_s = await self.limiter.retry_after_s(per_minute, "account", key)
                await self._give_back_ticket(key, ticket)
                found.wait(account, now + timedelta(seconds=retry_s), "rate_limited")
                return None
        day = quota_day(platform, now)
        limit = daily_limit(platform, account.quota_limit)
        hold = None
        if limit is not None:
            block = self.allowances.draw(account.id, day, estimate)
            if block is None:
                block = await self.allowances.take(session, account.id, day, estimate, limit, now)
            if block is not None:
                return Admitted(account, day, None, ticket, block, estimate)
            expires = now + timedelta(seconds=self.hold_s)
            hold = await ledger.reserve(session, account.id, day, estimate, limit, expires)
            if hold is None:
                await self._give_back_ticket(key, ticket)
                if await ledger.used(session, account.id, day) >= limit:
                    found.wait(account, next_reset(platform, now), "quota_exhausted")
                else:  # what is left is held by calls in flight: it may come back soon
                    found.wait(account, now + timedelta(seconds=BUSY_RETRY_S), "held")
                return None
        return Admitted(account, day, hold, ticket)

    async def withdraw(self, session: AsyncSession, admitted: Admitted) -> None:
        """The call will not be made after all: give back the reservation (in the transaction
        that made it) and the ticket."""
        if admitted.hold is not None:
            await ledger.release(session, admitted.hold)
        await self._returned(admitted)

    async def withdraw_committed(self, admitted: Admitted) -> None:
        """`withdraw` once the reservation has committed: in a transaction of its own, tried
        again after a deadlock or while the database is unavailable, as the books are."""
        hold = admitted.hold
        if hold is not None:

            async def release(session: AsyncSession, _again: bool) -> None:
                await ledger.release(session, hold)

            await retried(self.allowances.factory, release, within_s=GIVE_BACK_RETRY_S)
        await self._returned(admitted)

    async def _returned(self, admitted: Admitted) -> None:
        if admitted.block is not None:
            admitted.block.give_back(admitted.estimate)
        await self.leave(admitted)

    async def leave(self, admitted: Admitted) -> None:
        await self._give_back_ticket(str(admitted.account.id), admitted.ticket)

    async def _give_back_ticket(self, key: str, ticket: str | None) -> None:
        if ticket is not None:
            await self.inflight.release(key, ticket)

    async def _busy(self, account_ids: list[int]) -> dict[int, int]:
        counts = await self.inflight.counts([str(i) for i in account_ids])
        return {int(key): count for key, count in counts.items()}
