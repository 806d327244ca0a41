"""Budget reservations of a process that died: given back by the sweeper once they expire, and at
once by a call that finds the budget full of them — on the migrated SQLite database."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from app.api.deps import app_context
from app.core.database import session_scope, utcnow
from app.models import BudgetHold, PlatformConfig
from app.services.background import BackgroundJobs
from app.services.calls.budget_gate import BudgetGate
from app.services.calls.choosing import ChatCall
from app.services.calls.usage import estimate
from app.services.quota import budget_ledger
from app.services.quota.budget_ledger import Held, NoRoom
from app.services.quota.budgets import Budget

SAID = [{"role": "user", "content": "hi"}]


def fresh_budget(limit: int) -> Budget:
    owner_id = uuid.uuid4().int % 10**9  # a budget no other test touches
    return Budget("key", owner_id, "tokens_per_day", limit, str(limit))


async def crashed_reservation(app: Any, budget: Budget, amount: int) -> tuple[Held, ...]:
    """A reservation whose call never settled it, and whose hold has expired."""
    now = utcnow()
    async with session_scope(app_context(app).factory) as session:
        held = await budget_ledger.reserve(
            session, [(budget, amount)], now, now - timedelta(seconds=1)
        )
    assert not isinstance(held, NoRoom)
    return held


async def where_it_stands(app: Any, budget: Budget) -> budget_ledger.Standing | None:
    async with app_context(app).factory() as session:
        return await budget_ledger.standing(session, budget, budget.period(utcnow()))


async def test_the_sweeper_gives_back_expired_budget_holds(app):
    budget = fresh_budget(1000)
    (held,) = await crashed_reservation(app, budget, 300)
    assert await where_it_stands(app, budget) == budget_ledger.Standing(used=0, reserved=300)
    assert await BackgroundJobs(app_context(app)).sweep_holds() >= 1
    assert await where_it_stands(app, budget) == budget_ledger.Standing(used=0, reserved=0)
    async with app_context(app).factory() as session:
        left = await session.scalar(
            select(func.count()).select_from(BudgetHold).where(BudgetHold.id == held.id)
        )
    assert left == 0
    # Its call settling late counts what it spent, never gives the estimate back twice.
    async with session_scope(app_context(app).factory) as session:
        await budget_ledger.settle(session, [(held, 120)])
    assert await where_it_stands(app, budget) == budget_ledger.Standing(used=120, reserved=0)


async def test_a_budget_full_of_expired_holds_admits_the_next_call_at_once(app):
    ctx = app_context(app)
    budget = fresh_budget(100)
    await crashed_reservation(app, budget, 100)
    platform = PlatformConfig(platform_id="p", platform_name="P", pricing=None)
    call = ChatCall(user_id=1, platform=platform, model="m", messages=SAID, budgets=(budget,))
    gate = BudgetGate(ctx, utcnow)
    (held,) = await gate.reserve(call)
    expected = estimate(SAID, {})
    assert await where_it_stands(app, budget) == budget_ledger.Standing(0, expected)
    await gate.release((held,))
    assert await where_it_stands(app, budget) == budget_ledger.Standing(0, 0)
