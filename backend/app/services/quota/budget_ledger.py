"""The budgets' ledger: reserve before a call, settle or release after it — the account quota's
rules (quota/ledger.py) applied to budget periods.

    reserve   one conditional UPDATE per budget: reserved += estimate where used + reserved <
              limit, plus a hold row that expires; all of a call's budgets in one transaction,
              so a call refused by one holds nothing on the others
    settle    the hold is deleted and its estimate moved to `used` as what the call spent, in the
              transaction of the call's books
    release   the hold is deleted and its estimate given back (no platform answered)
    sweep     holds of crashed workers are given back once they expire

A hold is given back only by whoever deletes its row. Lock order: hold rows by id, then period
rows by (owner, owner id, budget, period); a reservation writes period rows in that order and
then inserts its new holds, which nobody can be waiting for.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, and_, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.core.database import utcnow
from app.core.upsert import upsert
from app.models import BudgetHold, BudgetPeriod
from app.services.quota.budgets import Budget
from app.services.quota.ledger import SWEEP_BATCH

PeriodKey = tuple[str, int, str, date]
ALERT_LEVELS = (100, 80)


@dataclass(frozen=True)
class Held:
    """One call's reservation on one budget."""

    id: int
    budget: Budget
    period: date
    amount: int

    @property
    def period_key(self) -> PeriodKey:
        return (*self.budget.key, self.period)


@dataclass(frozen=True)
class Standing:
    used: int = 0
    reserved: int = 0


@dataclass(frozen=True)
class NoRoom:
    """A budget that had no room for a call, and where it stood."""

    budget: Budget
    standing: Standing | None
    """None: not known, worth another try (expired holds were just given back, or the try was
    a deadlock's victim)."""


async def reserve(
    session: AsyncSession, wanted: list[tuple[Budget, int]], now: datetime, expires_at: datetime
) -> tuple[Held, ...] | NoRoom:
    """Hold each budget's amount while any of it is left: the holds (flushed, not committed),
    or the first budget that had no room (the transaction is then to be rolled back)."""
    taken: list[tuple[Budget, date, int]] = []
    for budget, amount in sorted(wanted, key=lambda item: item[0].key):
        period = budget.period(now)
        if not await _take(session, budget, period, amount):
            found = await standing(session, budget, period)
            if found is not None:
                return NoRoom(budget, found)
            await _ensure(session, budget, period)  # its first call
            if not await _take(session, budget, period, amount):
                return NoRoom(budget, await standing(session, budget, period))
        taken.append((budget, period, amount))
    holds = [
        BudgetHold(owner=b.owner, owner_id=b.owner_id, budget=b.name, period=p, amount=a,
                   expires_at=expires_at)
        for b, p, a in taken
    ]  # fmt: skip
    session.add_all(holds)
    await session.flush()
    return tuple(Held(h.id, b, p, a) for h, (b, p, a) in zip(holds, taken, strict=True))


async def standing(session: AsyncSession, budget: Budget, period: date) -> Standing | None:
    """Where the budget's period stands; None before its first call."""
    row = (
        await session.execute(
            select(BudgetPeriod.used, BudgetPeriod.reserved).where(_is(budget, period))
        )
    ).first()
    return Standing(int(row.used), int(row.reserved)) if row else None


async def standings(
    session: AsyncSession, owner: str, owner_ids: list[int], periods: set[date]
) -> dict[PeriodKey, Standing]:
    """Used and reserved of every budget period of those owners in `periods`."""
    if not owner_ids or not periods:
        return {}
    rows = await session.execute(
        select(BudgetPeriod).where(
            BudgetPeriod.owner == owner,
            BudgetPeriod.owner_id.in_(owner_ids),
            BudgetPeriod.period.in_(periods),
        )
    )
    return {
        (r.owner, r.owner_id, r.budget, r.period): Standing(r.used, r.reserved)
        for r in rows.scalars()
    }


async def settle(session: AsyncSession, spent: list[tuple[Held, int]]) -> None:
    """Delete the holds and count what their calls spent; a hold already swept (expired) has
    had its estimate given back, so only its spending counts."""
    used: Counter[PeriodKey] = Counter()
    reserved: Counter[PeriodKey] = Counter()
    for held, amount in sorted(spent, key=lambda item: item[0].id):
        if await _forget(session, held):
            reserved[held.period_key] -= held.amount
        used[held.period_key] += amount
    await _write(session, used, reserved)


async def release(session: AsyncSession, holds: tuple[Held, ...]) -> None:
    reserved: Counter[PeriodKey] = Counter()
    for held in sorted(holds, key=lambda h: h.id):
        if await _forget(session, held):
            reserved[held.period_key] -= held.amount
    await _write(session, Counter(), reserved)


async def sweep(
    session: AsyncSession, now: datetime, only: tuple[Budget, date] | None = None
) -> int:
    """Give back up to SWEEP_BATCH expired holds (of `only` one budget's period, or of all);
    how many were."""
    query = select(
        BudgetHold.id, BudgetHold.owner, BudgetHold.owner_id, BudgetHold.budget,
        BudgetHold.period, BudgetHold.amount,
    ).where(BudgetHold.expires_at < now)  # fmt: skip
    if only is not None:
        budget, period = only
        query = query.where(
            BudgetHold.owner == budget.owner,
            BudgetHold.owner_id == budget.owner_id,
            BudgetHold.budget == budget.name,
            BudgetHold.period == period,
        )
    rows = await session.execute(query.order_by(BudgetHold.id).limit(SWEEP_BATCH))
    reserved: Counter[PeriodKey] = Counter()
    given_back = 0
    for hold_id, owner, owner_id, name, period, amount in rows.all():
        result = await session.execute(_FORGET, {"hold_id": hold_id})
        if getattr(result, "rowcount", 0):
            reserved[(owner, owner_id, name, period)] -= amount
            given_back += 1
    await _write(session, Counter(), reserved)
    return given_back


async def passed_level(session: AsyncSession, held: Held) -> int | None:
    """The highest of ALERT_LEVELS (percent) the held budget's period has now reached and no
    alert was raised for, marked as raised (None: none). The conditional UPDATE makes it once
    per period and level across processes."""
    row = (
        await session.execute(
            select(BudgetPeriod.used, BudgetPeriod.alerted).where(_is(held.budget, held.period))
        )
    ).first()
    if row is None:
        return None
    limit = held.budget.limit
    for level in ALERT_LEVELS:
        if row.alerted < level and row.used * 100 >= limit * level:
            result = await session.execute(
                update(BudgetPeriod)
                .where(_is(held.budget, held.period), BudgetPeriod.alerted < level)
                .values(alerted=level)
                .execution_options(synchronize_session=False)
            )
            return level if getattr(result, "rowcount", 0) else None
    return None


async def _take(session: AsyncSession, budget: Budget, period: date, amount: int) -> bool:
    result = await session.execute(
        update(BudgetPeriod)
        .where(
            _is(budget, period),
            BudgetPeriod.used + BudgetPeriod.reserved < budget.limit,
        )
        .values(reserved=BudgetPeriod.reserved + amount, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def _ensure(session: AsyncSession, budget: Budget, period: date) -> None:
    """The period's row, created by its first call (adding nothing when a twin made it)."""
    row = {
        "owner": budget.owner,
        "owner_id": budget.owner_id,
        "budget": budget.name,
        "period": period,
        "used": 0,
        "updated_at": utcnow(),
    }
    await upsert(session, _PERIODS, row, add=("used",))


def _is(budget: Budget, period: date) -> ColumnElement[bool]:
    return and_(
        BudgetPeriod.owner == budget.owner,
        BudgetPeriod.owner_id == budget.owner_id,
        BudgetPeriod.budget == budget.name,
        BudgetPeriod.period == period,
    )


async def _forget(session: AsyncSession, held: Held) -> bool:
    result = await session.execute(_FORGET, {"hold_id": held.id})
    return bool(getattr(result, "rowcount", 0))


async def _write(
    session: AsyncSession, used: Counter[PeriodKey], reserved: Counter[PeriodKey]
) -> None:
    for key in sorted(used.keys() | reserved.keys()):
        if used[key] or reserved[key]:
            owner, owner_id, name, period = key
            await session.execute(
                _ADD,
                {"b_owner": owner, "b_owner_id": owner_id, "b_budget": name, "b_period": period,
                 "b_used": used[key], "b_reserved": reserved[key], "at": utcnow()},
            )  # fmt: skip


_PERIODS = cast(Table, BudgetPeriod.__table__)
_HOLDS = cast(Table, BudgetHold.__table__)
_FORGET = delete(_HOLDS).where(_HOLDS.c.id == bindparam("hold_id"))
_ADD = (
    update(_PERIODS)
    .where(
        _PERIODS.c.owner == bindparam("b_owner"),
        _PERIODS.c.owner_id == bindparam("b_owner_id"),
        _PERIODS.c.budget == bindparam("b_budget"),
        _PERIODS.c.period == bindparam("b_period"),
    )
    .values(
        used=_PERIODS.c.used + bindparam("b_used"),
        reserved=_PERIODS.c.reserved + bindparam("b_reserved"),
        updated_at=bindparam("at"),
    )
)
