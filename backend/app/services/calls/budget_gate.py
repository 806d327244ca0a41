"""A call's budgets (quota/budgets.py) checked before any platform is asked: its estimate
reserved on each, or the call refused with 429 and the budget's reset.

A budget whose last room is held by calls in flight is waited for (up to CALL_QUEUE_SECONDS,
backing off), as an account's quota is: those calls may use less than they reserved. A call
without budgets costs nothing here, not even a statement.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import anyio
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import deadlocked, retried, session_scope
from app.core.errors import TooManyRequests
from app.services import alerts
from app.services.calls import usage
from app.services.calls.choosing import ChatCall
from app.services.context import AppContext
from app.services.quota import budget_ledger, budgets
from app.services.quota.budget_ledger import Held, NoRoom
from app.services.quota.budgets import Budget

logger = logging.getLogger(__name__)

FIRST_PAUSE_S = 0.02
MAX_PAUSE_S = 0.5
HELD_RETRY_S = 1
RELEASE_RETRY_S = 10.0


class BudgetGate:
    def __init__(self, ctx: AppContext, clock: Callable[[], datetime]) -> None:
        self.ctx = ctx
        self.factory = ctx.factory
        self.hold_s = ctx.settings.call_hold_seconds
        self.queue_s = ctx.settings.call_queue_seconds
        self.clock = clock

    async def reserve(self, call: ChatCall) -> tuple[Held, ...]:
        """The call's holds on its budgets (none without budgets); raises TooManyRequests when
        one of them has no room."""
        if not call.budgets:
            return ()
        tokens = usage.estimate(call.messages, call.params)
        targets = (
            [(t.platform, t.model) for t in call.route.targets]
            if call.route
            else [(call.platform, call.model)]
        )
        wanted = [(b, budgets.estimate(b, targets, tokens)) for b in call.budgets]
        wanted = [(budget, amount) for budget, amount in wanted if amount > 0]
        if not wanted:
            return ()
        deadline = time.monotonic() + self.queue_s
        pause = FIRST_PAUSE_S
        while True:
            now = self.clock()
            found = await self._try(wanted, now)
            if not isinstance(found, NoRoom):
                return found
            budget, standing = found.budget, found.standing
            if standing is not None and standing.used >= budget.limit:
                raise _spent(budget, now)
            if time.monotonic() + pause > deadline:
                raise _held(budget)
            await anyio.sleep(pause * random.uniform(0.5, 1.5))  # noqa: S311 - spreads retries
            pause = min(pause * 2, MAX_PAUSE_S)

    async def _try(
        self, wanted: list[tuple[Budget, int]], now: datetime
    ) -> tuple[Held, ...] | NoRoom:
        """The holds, or the budget that had no room."""
        expires = now + timedelta(seconds=self.hold_s)
        try:
            async with session_scope(self.factory) as session:
                found = await budget_ledger.reserve(session, wanted, now, expires)
                if not isinstance(found, NoRoom):
                    return found
                await session.rollback()
                period = found.budget.period(now)
                if await budget_ledger.sweep(session, now, (found.budget, period)):
                    return NoRoom(found.budget, None)
                return found
        except DBAPIError as exc:
            if not deadlocked(exc):
                raise
            return NoRoom(wanted[0][0], None)

    async def release(self, holds: tuple[Held, ...]) -> None:
        """No platform answered: give the holds back (tried again while the database is
        unavailable; an expired hold the sweeper gives back otherwise)."""
        if not holds:
            return

        async def write(session: AsyncSession, _again: bool) -> None:
            await budget_ledger.release(session, holds)

        await retried(self.factory, write, within_s=RELEASE_RETRY_S)

    async def settled(self, user_id: int, holds: tuple[Held, ...]) -> None:
        """An answered call's books settled its holds: raise the alert of each budget it took
        past 80% or 100% (once a period each)."""
        if not holds:
            return
        try:
            async with session_scope(self.factory) as session:
                passed = [(h, await budget_ledger.passed_level(session, h)) for h in holds]
        except Exception:  # an alert must never fail the call that noticed it
            logger.exception("checking budgets for alerts failed")
            return
        for held, level in passed:
            if level is not None:
                await alerts.budget_reached(self.ctx, user_id, held, level)


def _spent(budget: Budget, now: datetime) -> TooManyRequests:
    resets = budget.resets_at(now)
    return TooManyRequests(
        f"{budget.described()} is used up; it resets at {resets:%Y-%m-%d %H:%M} UTC.",
        retry_after_s=max(1, int((resets - now).total_seconds())),
        code="budget_exceeded",
    )


def _held(budget: Budget) -> TooManyRequests:
    return TooManyRequests(
        f"{budget.described()} is held by calls in flight; try again in {HELD_RETRY_S} s.",
        retry_after_s=HELD_RETRY_S,
        code="budget_exceeded",
    )
