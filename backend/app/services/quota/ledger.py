"""The quota ledger: reserve before a call, settle or release after it, atomically.

    reserve   one conditional UPDATE: reserved += estimate where used + reserved < limit, plus a
              hold row that expires; no row updated means the account has no quota left. A
              process may hold a block of many calls' estimates at once (quota/allowances.py)
    settle    the hold is deleted and its estimate moved to `used` as the real usage, in the
              transaction that records the call's usage, so usage is never half-recorded
    release   the hold is deleted and its estimate given back (the call failed)
    sweep     holds of crashed workers are given back once they expire: by the background
              sweeper, and at once when their account looks full

A hold is given back only by whoever deletes its row, so no estimate is returned twice. Every
statement is plain SQL that SQLite, PostgreSQL and MariaDB run atomically.

One lock order for every writer of `quota_holds` and `account_quota_days` (the books, the
reservations, the give-backs of blocks, the sweeper): first the hold rows, by id; then the day
rows, by (account, day), through a `Tally` written once every hold row is; then the rows of
other tables. No two writers then wait on each other crosswise. A reservation writes one day
row and then inserts its new hold row, which nobody else can be waiting for; `reserve` commits
the session it is given (its caller's transaction holds nothing else), and ends its transaction
before it sweeps. A deadlock left to the servers' own quirks (MariaDB's gap locks) is still
tried again: the books and the give-backs through `retried`, a reservation as a call that queues.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import deadlocked, utcnow
from app.core.upsert import upsert
from app.models import AccountQuotaDay, QuotaHold

SWEEP_BATCH = 100


@dataclass(frozen=True)
class Hold:
    id: int
    account_id: int
    day: date
    tokens: int


@dataclass(frozen=True)
class DayTotals:
    used: int = 0
    reserved: int = 0


async def reserve(
    session: AsyncSession,
    account_id: int,
    day: date,
    tokens: int,
    limit: int,
    expires_at: datetime,
    *,
    whole: bool = False,
) -> Hold | None:
    """Hold `tokens` of the account's day while any of its `limit` is left (`whole`: only if all
    of `tokens` fit under it); None when they cannot be held, or when the reservation was a
    deadlock's victim (rolled back: the call queues and tries again)."""
    try:
        return await _reserve(session, account_id, day, tokens, limit, expires_at, whole)
    except DBAPIError as exc:
        if not deadlocked(exc):
            raise
        await session.rollback()
        return None


async def _reserve(
    session: AsyncSession,
    account_id: int,
    day: date,
    tokens: int,
    limit: int,
    expires_at: datetime,
    whole: bool,
) -> Hold | None:
    ceiling = limit - tokens + 1 if whole else limit
    taken = await _take(session, account_id, day, tokens, ceiling)
    if not taken and await _day_exists(session, account_id, day):
        # Full, unless holds of crashed calls can be given back. The UPDATE that found it full
        # may still lock the day's row (MariaDB keeps the locks of the rows it read): the
        # transaction ends before the sweep locks holds, which come first in the lock order.
        await session.commit()
        taken = await sweep(session, utcnow(), account_id) > 0 and await _take(
            session, account_id, day, tokens, ceiling
        )
    elif not taken:  # the day's first call
        await _ensure_day(session, account_id, day)
        taken = await _take(session, account_id, day, tokens, ceiling)
    if not taken:
        return None
    hold = QuotaHold(account_id=account_id, day=day, tokens=tokens, expires_at=expires_at)
    session.add(hold)
    await session.flush()
    return Hold(hold.id, account_id, day, tokens)


async def release(session: AsyncSession, hold: Hold) -> bool:
    """Give the hold's estimate back; False when it was given back already."""
    if not await forget(session, hold):
        return False
    await count(session, hold.account_id, hold.day, used=0, reserved=-hold.tokens)
    return True


async def count(
    session: AsyncSession, account_id: int, day: date, *, used: int, reserved: int = 0
) -> None:
    """Add `used` and `reserved` (a change: negative gives back) to the account's day. The row
    exists whenever something was reserved on it; otherwise (no daily limit) it may not yet."""
    if reserved:
        await _add(session, account_id, day, used=used, reserved=reserved)
    elif used:
        await upsert(
            session,
            _TABLE,
            {"account_id": account_id, "day": day, "used_tokens": used, "updated_at": utcnow()},
            add=("used_tokens",),
            replace=("updated_at",),
        )


async def draw_down(session: AsyncSession, hold: Hold, held: int, left: int) -> bool:
    """Lower a block's hold from `held` (what its process last wrote) to `left` tokens; False
    when the hold is not at `held`: already lowered (a try whose COMMIT landed) or swept."""
    result = await session.execute(_DRAW_DOWN, {"hold_id": hold.id, "held": held, "left": left})
    return bool(getattr(result, "rowcount", 0))


async def exists(session: AsyncSession, hold: Hold) -> bool:
    return await session.scalar(select(QuotaHold.id).where(QuotaHold.id == hold.id)) is not None


async def sweep(session: AsyncSession, now: datetime, account_id: int | None = None) -> int:
    """Give back up to SWEEP_BATCH expired holds (of one account, or of all); how many were. A
    block's hold its books lower between the read and the delete is left for the next sweep."""
    query = select(QuotaHold).where(QuotaHold.expires_at < now).order_by(QuotaHold.id)
    if account_id is not None:
        query = query.where(QuotaHold.account_id == account_id)
    expired = []
    for row in list(await session.scalars(query.limit(SWEEP_BATCH))):
        expired.append(Hold(row.id, row.account_id, row.day, row.tokens))
        session.expunge(row)
    tally = Tally()
    given_back = 0
    for hold in expired:
        if await forget(session, hold):
            tally.add(hold.account_id, hold.day, reserved=-hold.tokens)
            given_back += 1
    await tally.write(session)
    return given_back


@dataclass
class Tally:
    """Changes to days' used and reserved tokens, gathered while the hold rows are written and
    then written in the one order for day rows (module docstring)."""

    used: Counter[tuple[int, date]] = field(default_factory=Counter)
    reserved: Counter[tuple[int, date]] = field(default_factory=Counter)

    def add(self, account_id: int, day: date, *, used: int = 0, reserved: int = 0) -> None:
        self.used[(account_id, day)] += used
        self.reserved[(account_id, day)] += reserved

    async def write(self, session: AsyncSession) -> None:
        for account_id, day in sorted(self.used.keys() | self.reserved.keys()):
            key = (account_id, day)
            await count(session, account_id, day, used=self.used[key], reserved=self.reserved[key])


async def used(session: AsyncSession, account_id: int, day: date) -> int:
    found = await session.scalar(
        select(AccountQuotaDay.used_tokens).where(
            AccountQuotaDay.account_id == account_id, AccountQuotaDay.day == day
        )
    )
    return int(found or 0)


async def totals(
    session: AsyncSession, account_ids: list[int] | None, days: set[date]
) -> dict[tuple[int, date], DayTotals]:
    """Used and reserved tokens per (account, day) of those accounts (None: of every account)."""
    if account_ids == [] or not days:
        return {}
    query = select(
        AccountQuotaDay.account_id,
        AccountQuotaDay.day,
        AccountQuotaDay.used_tokens,
        AccountQuotaDay.reserved_tokens,
    ).where(AccountQuotaDay.day.in_(days))
    if account_ids is not None:
        query = query.where(AccountQuotaDay.account_id.in_(account_ids))
    rows = await session.execute(query)
    return {(a, d): DayTotals(int(used), int(reserved)) for a, d, used, reserved in rows}


_TABLE = cast(Table, AccountQuotaDay.__table__)


async def _take(
    session: AsyncSession, account_id: int, day: date, tokens: int, ceiling: int
) -> bool:
    result = await session.execute(
        update(AccountQuotaDay)
        .where(
            AccountQuotaDay.account_id == account_id,
            AccountQuotaDay.day == day,
            AccountQuotaDay.used_tokens + AccountQuotaDay.reserved_tokens < ceiling,
        )
        .values(reserved_tokens=AccountQuotaDay.reserved_tokens + tokens, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def _day_exists(session: AsyncSession, account_id: int, day: date) -> bool:
    found = await session.scalar(
        select(AccountQuotaDay.account_id).where(
            AccountQuotaDay.account_id == account_id, AccountQuotaDay.day == day
        )
    )
    return found is not None


async def _ensure_day(session: AsyncSession, account_id: int, day: date) -> None:
    """Create the day's row in a transaction of its own. A twin call may create it first, or on
    MariaDB deadlock with this one (concurrent inserts of one key); either way the row is there
    or the caller finds no room and queues for another try."""
    await session.commit()
    try:
        await session.execute(
            insert(AccountQuotaDay).values(account_id=account_id, day=day, updated_at=utcnow())
        )
        await session.commit()
    except DBAPIError as exc:
        await session.rollback()
        if not isinstance(exc, IntegrityError) and not deadlocked(exc):
            raise


async def forget(session: AsyncSession, hold: Hold, held: int | None = None) -> bool:
    """Delete the hold's row if it still holds `held` tokens (by default what it was made
    with); False when it was gone already (whoever deletes it gives back) or holds another
    amount: a block's hold is lowered by its books, so what is given back must be what the
    row held when it was deleted, not what was read before."""
    tokens = hold.tokens if held is None else held
    result = await session.execute(_FORGET, {"hold_id": hold.id, "tokens": tokens})
    return bool(getattr(result, "rowcount", 0))


async def _add(
    session: AsyncSession, account_id: int, day: date, *, used: int, reserved: int
) -> None:
    await session.execute(
        _ADD,
        {"account": account_id, "on": day, "used": used, "reserved": reserved, "at": utcnow()},
    )


# The statements each call's books run, built once with bound parameters: building them (and
# their cache keys) on every call costs more than running them.
_HOLDS = cast(Table, QuotaHold.__table__)
_DRAW_DOWN = (
    update(_HOLDS)
    .where(_HOLDS.c.id == bindparam("hold_id"), _HOLDS.c.tokens == bindparam("held"))
    .values(tokens=bindparam("left"))
)
_FORGET = delete(_HOLDS).where(
    _HOLDS.c.id == bindparam("hold_id"), _HOLDS.c.tokens == bindparam("tokens")
)
_ADD = (
    update(_TABLE)
    .where(_TABLE.c.account_id == bindparam("account"), _TABLE.c.day == bindparam("on"))
    .values(
        used_tokens=_TABLE.c.used_tokens + bindparam("used"),
        reserved_tokens=_TABLE.c.reserved_tokens + bindparam("reserved"),
        updated_at=bindparam("at"),
    )
)
