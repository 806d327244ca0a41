"""Blocks of quota (quota/allowances.py) and the books of calls that end together (quota/books.py),
on SQLite, PostgreSQL and MariaDB: calls reserve from a block without a database statement, a lot
of books is one transaction that counts every call, a try whose COMMIT landed is not counted
again, a bad entry fails alone, and a block goes back once it is done with."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from app.core.database import session_scope, utcnow
from app.models import AccountQuotaDay, AccountUsage, PlatformConfig, QuotaHold
from app.services.calls.admission import Admitted
from app.services.calls.usage import TokenUsage
from app.services.quota import allowances, books, ledger
from app.services.quota.allowances import Allowances
from app.services.quota.quota_clock import quota_day
from tests.helpers.databases import empty_database, one_limited_account

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mariadb", marks=pytest.mark.mysql),
]
LIMIT = 100_000
ESTIMATE = 100


class Statements:
    """Counts the SQL statements and COMMITs an engine sends."""

    def __init__(self, engine: Any) -> None:
        self.executed = 0
        self.commits = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._executed)
        event.listen(engine.sync_engine, "commit", self._committed)

    def _executed(self, *_: Any) -> None:
        self.executed += 1

    def _committed(self, *_: Any) -> None:
        self.commits += 1


def _entry(
    platform: PlatformConfig, admitted: Admitted, tokens: int | None, model: Any = "m"
) -> books.Entry:
    return books.Entry(
        user_id=admitted.account.user_id,
        platform=platform,
        model=model,
        admitted=admitted,
        tokens=None if tokens is None else TokenUsage(tokens - 1, 1),
        failure=None,
        clear_cooldown=False,
        clear_exhaustion=False,
        touch_last_used=True,
        now=utcnow(),
    )


async def _figures(factory: Any, account_id: int, day: Any) -> tuple[int, int, list[int], int]:
    """(used, reserved, the holds' tokens, answered requests) of the account's day."""
    async with factory() as session:
        row = await session.get(AccountQuotaDay, (account_id, day))
        holds = list(await session.scalars(select(QuotaHold.tokens).order_by(QuotaHold.id)))
        answered = await session.scalar(select(func.sum(AccountUsage.requests)))
    return row.used_tokens, row.reserved_tokens, holds, int(answered or 0)


async def _exercise(url: str) -> None:
    engine, factory, platform, account = await one_limited_account(url, LIMIT)
    now = utcnow()
    day = quota_day(platform, now)
    quota = Allowances(factory, hold_s=600)
    statements = Statements(engine)

    # The first call takes a block of an eighth of the day (less than 256 estimates); the next
    # calls reserve from it in memory until it is full.
    size = LIMIT // allowances.SHARE
    calls = size // ESTIMATE
    async with session_scope(factory) as session:
        block = await quota.take(session, account.id, day, ESTIMATE, LIMIT, now)
    assert block is not None and block.tokens == size
    before = statements.executed
    drawn = [quota.draw(account.id, day, ESTIMATE) for _ in range(calls - 1)]
    assert all(d is block for d in drawn) and statements.executed == before
    assert quota.draw(account.id, day, ESTIMATE) is None  # full: the next call takes a block
    admitted = [Admitted(account, day, None, None, block, ESTIMATE) for _ in range(calls)]

    # All those calls ending together: one transaction counts them all and lowers the block.
    commits = statements.commits
    book = books.Books(factory)
    await asyncio.gather(*(book.write(_entry(platform, a, 10)) for a in admitted))
    assert statements.commits == commits + 1
    left = size - 10 * calls
    assert (block.tokens, block.drawn, block.calls) == (left, 0, 0)
    assert await _figures(factory, account.id, day) == (10 * calls, left, [left], calls)

    # A try again after a COMMIT that landed finds the block already lowered: nothing counts
    # twice.
    entries = [_entry(platform, admitted[0], 7)]
    await books.write_lot(factory, entries)
    block.tokens += 7  # as the process saw it while that COMMIT's outcome was unknown
    async with session_scope(factory) as session:
        await books._write(session, entries, {block: block.tokens - 7}, again=True)
    block.tokens -= 7
    used, left = 10 * calls + 7, left - 7
    assert await _figures(factory, account.id, day) == (used, left, [left], calls + 1)

    # One bad entry in a lot fails alone; the others are booked.
    block.draw(ESTIMATE)
    block.draw(ESTIMATE)
    good = _entry(platform, admitted[0], 3)
    bad = _entry(platform, admitted[1], 3, model=None)
    outcomes = await asyncio.gather(book.write(good), book.write(bad), return_exceptions=True)
    assert outcomes[0] is None and isinstance(outcomes[1], Exception)
    used, left = used + 3, left - 3
    assert await _figures(factory, account.id, day) == (used, left, [left], calls + 2)

    # Done with (idle), the block goes back: nothing stays reserved.
    block.last_drawn -= allowances.IDLE_S
    assert await quota.give_back() == 1
    assert await _figures(factory, account.id, day) == (used, 0, [], calls + 2)

    # Near the limit no block is taken: each call reserves for itself.
    async with session_scope(factory) as session:
        await ledger.count(session, account.id, day, used=LIMIT - used - 3 * ESTIMATE)
    async with session_scope(factory) as session:
        assert await quota.take(session, account.id, day, ESTIMATE, LIMIT, now) is None
    await quota.close()
    await engine.dispose()


@pytest.mark.parametrize("kind", BACKENDS)
async def test_quota_blocks_and_group_commit_on_every_database(kind, tmp_path):
    async with empty_database(kind, tmp_path) as url:
        await _exercise(url)


async def test_a_swept_block_counts_its_usage_without_giving_back_twice(tmp_path):
    """A block whose hold expired (its process stalled) and was swept: its calls' usage still
    counts, and the swept tokens are not given back a second time."""
    engine, factory, platform, account = await one_limited_account(
        f"sqlite+aiosqlite:///{tmp_path / 's.db'}", LIMIT
    )
    now = utcnow()
    day = quota_day(platform, now)
    quota = Allowances(factory, hold_s=600)
    async with session_scope(factory) as session:
        block = await quota.take(session, account.id, day, ESTIMATE, LIMIT, now)
    assert block is not None
    async with session_scope(factory) as session:
        assert await ledger.sweep(session, now + timedelta(seconds=601)) == 1
    await books.Books(factory).write(
        _entry(platform, Admitted(account, day, None, None, block, ESTIMATE), 10)
    )
    assert await _figures(factory, account.id, day) == (10, 0, [], 1)
    block.last_drawn -= allowances.IDLE_S
    await quota.give_back()
    assert await _figures(factory, account.id, day) == (10, 0, [], 1)
    await engine.dispose()


async def test_calls_that_find_no_block_at_once_take_one_between_them(tmp_path):
    """While one call takes a block the others reserve for themselves (None here): they do not
    wait, holding database connections, and no second block is taken."""
    engine, factory, platform, account = await one_limited_account(
        f"sqlite+aiosqlite:///{tmp_path / 'h.db'}", LIMIT
    )
    now = utcnow()
    day = quota_day(platform, now)
    quota = Allowances(factory, hold_s=600)

    async def call() -> allowances.Block | None:
        async with session_scope(factory) as session:
            return await quota.take(session, account.id, day, ESTIMATE, LIMIT, now)

    taken = [block for block in await asyncio.gather(*(call() for _ in range(8))) if block]
    assert len(taken) == 1 and (taken[0].calls, taken[0].drawn) == (1, ESTIMATE)
    assert quota.draw(account.id, day, ESTIMATE) is taken[0]
    size = LIMIT // allowances.SHARE
    assert await _figures(factory, account.id, day) == (0, size, [size], 0)
    await engine.dispose()
