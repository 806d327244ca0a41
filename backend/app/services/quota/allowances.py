"""Blocks of quota: one ledger write reserves many calls' estimates for this process, and its
calls then reserve from the block in memory, without a database round trip each.

    take      while an account's day has plenty left, a block of at most 1/8 of what is left and
              at most 256 estimates is held in the ledger (a hold row like a call's, that expires)
    draw      a call reserves its estimate from the block when the block has room for it
    settle    the books lower the block's hold by what the calls used (quota/books.py), in the
              transaction that records their usage; a call's estimate returns to the block
    give back a block no longer drawn from (replaced, idle for a second, or older than its life)
              is deleted and its tokens returned to the day once its last call has ended

Near the limit — when 1/8 of what is left is less than four estimates — no block is taken and
each call reserves for itself, so the limit binds exactly as before. A process that dies keeps
its blocks until their holds expire (CALL_HOLD_SECONDS), when the sweeper gives them back;
blocks live at most half that time, so a live process never has one swept.

A give-back writes in the ledger's lock order (quota/ledger.py) and is tried again after a
deadlock or while the database is unavailable; its blocks stay in memory until it has committed,
so a failed one is tried again on the next round rather than left to expire.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.database import retried, unavailable
from app.services.quota import ledger

logger = logging.getLogger(__name__)

SHARE = 8
"""A block takes at most 1/SHARE of what is left of the day."""
MAX_CALLS = 256
MIN_CALLS = 4
"""Fewer estimates than this in 1/SHARE of what is left: calls reserve one by one."""
IDLE_S = 1.0
MAX_LIFE_S = 30.0
GIVE_BACK_RETRY_S = 10.0
"""How long one give-back is tried; after that the next round tries again."""


@dataclass(eq=False)
class Block:
    hold: ledger.Hold
    tokens: int
    """What the block's ledger hold holds now: lowered by the books as its calls settle."""
    ends_at: float
    """Monotonic time after which no call draws from it."""
    drawn: int = 0
    """Estimates of its calls in flight."""
    calls: int = 0
    last_drawn: float = field(default_factory=time.monotonic)
    retired: bool = False

    @property
    def room(self) -> int:
        return self.tokens - self.drawn

    def draw(self, estimate: int) -> None:
        self.drawn += estimate
        self.calls += 1
        self.last_drawn = time.monotonic()

    def give_back(self, estimate: int) -> None:
        """A call on the block is over (its usage, if any, is settled by then)."""
        self.drawn -= estimate
        self.calls -= 1

    def done_with(self, now: float) -> bool:
        """No call will draw from it again (it may still have calls in flight)."""
        return self.retired or now >= self.ends_at or now - self.last_drawn >= IDLE_S


class Allowances:
    """This process's blocks, per (account, day), and the task that gives back finished ones
    (it runs while there are blocks)."""

    def __init__(
        self, factory: async_sessionmaker[AsyncSession], hold_s: float, *, enabled: bool = True
    ) -> None:
        self.factory = factory
        self.hold_s = hold_s
        self.enabled = enabled
        self.life_s = min(MAX_LIFE_S, hold_s / 2)
        self._blocks: dict[tuple[int, date], list[Block]] = {}
        self._taking: dict[tuple[int, date], asyncio.Lock] = {}
        self._tidier: asyncio.Task[None] | None = None

    def draw(self, account_id: int, day: date, estimate: int) -> Block | None:
        """A block of this process with room for the call's estimate, now drawn from."""
        now = time.monotonic()
        for block in self._blocks.get((account_id, day), ()):
            if not block.done_with(now) and block.room >= estimate:
                block.draw(estimate)
                return block
        return None

    async def take(
        self,
        session: AsyncSession,
        account_id: int,
        day: date,
        estimate: int,
        limit: int,
        now: datetime,
    ) -> Block | None:
        """A new block drawn from by the call, or None: when the day has too little left, or
        while another call takes one (this call then reserves for itself rather than wait: a
        waiting call would hold its database connection, which the taker may need)."""
        taking = self._taking.setdefault((account_id, day), asyncio.Lock())
        if not self.enabled or taking.locked():
            return None
        async with taking:
            return await self._take(session, account_id, day, estimate, limit, now)

    async def _take(
        self,
        session: AsyncSession,
        account_id: int,
        day: date,
        estimate: int,
        limit: int,
        now: datetime,
    ) -> Block | None:
        totals = await ledger.totals(session, [account_id], {day})
        figures = totals.get((account_id, day), ledger.DayTotals())
        size = min((limit - figures.used - figures.reserved) // SHARE, MAX_CALLS * estimate)
        if size < MIN_CALLS * estimate:
            return None
        expires = now + timedelta(seconds=self.hold_s)
        hold = await ledger.reserve(session, account_id, day, size, limit, expires, whole=True)
        if hold is None:
            return None
        blocks = self._blocks.setdefault((account_id, day), [])
        for older in blocks:
            older.retired = True
        block = Block(hold, size, ends_at=time.monotonic() + self.life_s)
        block.draw(estimate)
        blocks.append(block)
        if self._tidier is None or self._tidier.done():
            self._tidier = asyncio.create_task(self._tidy())
        return block

    def room(self, account_id: int, day: date) -> int:
        """Tokens this process holds for the account's day beyond its calls in flight: counted
        as reserved in the ledger, yet free for this process's next calls."""
        now = time.monotonic()
        blocks = self._blocks.get((account_id, day), ())
        return sum(max(0, b.room) for b in blocks if not b.done_with(now))

    def finished(self) -> list[Block]:
        """Blocks done with and without calls in flight: to be given back."""
        now = time.monotonic()
        return [
            block
            for blocks in self._blocks.values()
            for block in blocks
            if block.calls == 0 and block.done_with(now)
        ]

    async def give_back(self, *, everything: bool = False) -> int:
        """Return the finished blocks' tokens to their days (`everything`: every block without
        calls in flight, at shutdown), then forget them; how many were given back."""
        if everything:
            for blocks in self._blocks.values():
                for block in blocks:
                    block.retired = True
        finished = self.finished()
        if finished:

            async def write(session: AsyncSession, _again: bool) -> None:
                await release(session, finished)

            await retried(self.factory, write, within_s=GIVE_BACK_RETRY_S)
            self._forget(finished)
        return len(finished)

    def _forget(self, given_back: list[Block]) -> None:
        for block in given_back:
            key = (block.hold.account_id, block.hold.day)
            kept = [b for b in self._blocks.get(key, ()) if b is not block]
            if kept:
                self._blocks[key] = kept
                continue
            self._blocks.pop(key, None)
            taking = self._taking.get(key)
            if taking is not None and not taking.locked():
                del self._taking[key]

    async def close(self) -> None:
        if self._tidier is not None:
            self._tidier.cancel()
            await asyncio.gather(self._tidier, return_exceptions=True)
        await self.give_back(everything=True)

    async def _tidy(self) -> None:
        while self._blocks:
            await asyncio.sleep(IDLE_S)
            try:
                await self.give_back()
            except Exception as exc:  # kept: tried again next round, or swept once expired
                if not unavailable(exc):
                    logger.exception("giving back quota blocks failed")


async def release(session: AsyncSession, blocks: list[Block]) -> None:
    """Delete the blocks' holds and give back what they still hold (nothing when swept)."""
    tally = ledger.Tally()
    for block in sorted(blocks, key=lambda b: b.hold.id):
        if await ledger.forget(session, block.hold, block.tokens):
            tally.add(block.hold.account_id, block.hold.day, reserved=-block.tokens)
    await tally.write(session)
