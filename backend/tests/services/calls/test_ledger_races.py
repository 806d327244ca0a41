"""Writers of the quota ledger racing on PostgreSQL and MariaDB, with real row locks: a give-back
of quota blocks made a deadlock's victim is tried again and the tokens come back (the block stays
in memory until they have); the sweeper and a block's books on one hold give back exactly what
is left; the sweeper's alignment of `quota_used` never waits for a day row the books hold.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from app.core.database import session_scope, utcnow
from app.models import AccountQuotaDay
from app.services.calls import usage
from app.services.quota import allowances, ledger
from app.services.quota.allowances import Allowances
from app.services.quota.quota_clock import quota_day
from tests.helpers.databases import empty_database, one_limited_account

pytestmark = pytest.mark.serial

SERVERS = [
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mariadb", marks=pytest.mark.mysql),
]
LIMIT = 100_000
ESTIMATE = 100

WAITING = {
    "postgres": "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND wait_event_type = 'Lock'",
    # A statement waiting for a row lock shows as still updating.
    "mysql": "SELECT count(*) FROM information_schema.processlist "
    "WHERE db = DATABASE() AND state = 'Updating'",
}


async def until_waiting(connection: AsyncConnection, kind: str) -> None:
    """Until a transaction of this database waits for a lock (bounded). Each look is a
    transaction of its own."""
    deadline = time.monotonic() + 10
    while not await connection.scalar(text(WAITING[kind])):
        assert time.monotonic() < deadline, "the give-back never waited for the day's row"
        await connection.rollback()
        await asyncio.sleep(0.02)


async def until_given_back(quota: Allowances) -> None:
    """Until the process holds no block (bounded)."""
    deadline = time.monotonic() + 10
    while quota.finished():
        assert time.monotonic() < deadline, "the block was never given back"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("kind", SERVERS)
async def test_a_give_back_chosen_as_a_deadlocks_victim_is_tried_again(
    kind: str, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Another transaction locks the account's day row, the give-back deletes its block's hold
    and waits for that row, then the other transaction asks for the hold row: a cycle the server
    breaks by rolling one of them back. The other has written more rows, so the give-back is the
    one rolled back (on PostgreSQL it also waited first, and checks first)."""
    async with empty_database(kind, tmp_path) as url:
        engine, factory, platform, account = await one_limited_account(url, LIMIT)
        now = utcnow()
        day = quota_day(platform, now)
        quota = Allowances(factory, hold_s=600)
        async with session_scope(factory) as session:
            block = await quota.take(session, account.id, day, ESTIMATE, LIMIT, now)
        assert block is not None
        other = create_async_engine(url)
        try:
            async with other.connect() as crossing, other.connect() as watching:
                await crossing.execute(
                    text("UPDATE oauth_accounts SET account_name = 'x' WHERE id = :id"),
                    {"id": account.id},
                )
                await crossing.execute(
                    text("UPDATE account_quota_days SET used_tokens = 0 WHERE account_id = :id"),
                    {"id": account.id},
                )
                # The block's one call is over and it idles: the process's tidier gives it back
                # within a second, and waits for the day's row.
                block.give_back(ESTIMATE)
                block.last_drawn -= allowances.IDLE_S
                await until_waiting(watching, kind)
                # The crossing order: the hold row after the day's. It waits for the give-back,
                # which is rolled back; the crossing transaction then gets its row.
                await crossing.execute(
                    text("SELECT id FROM quota_holds WHERE id = :id FOR UPDATE"),
                    {"id": block.hold.id},
                )
                assert quota.finished() == [block], "the block left memory before its give-back"
                await crossing.rollback()
            await until_given_back(quota)
        finally:
            await other.dispose()
        async with factory() as session:
            row = await session.get(AccountQuotaDay, (account.id, day))
            holds = await session.scalar(text("SELECT count(*) FROM quota_holds"))
        await quota.close()
        await engine.dispose()
    assert (row.reserved_tokens, holds) == (0, 0)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("kind", SERVERS)
async def test_the_sweeper_gives_back_what_a_hold_holds_when_it_is_deleted(
    kind: str, tmp_path: Any
) -> None:
    """A block's hold lowered by its books while the sweeper deletes it (the block outlived its
    hold: a stalled process): what is given back is what is left, never what was read before."""
    async with empty_database(kind, tmp_path) as url:
        engine, factory, platform, account = await one_limited_account(url, LIMIT)
        now = utcnow()
        day = quota_day(platform, now)
        quota = Allowances(factory, hold_s=600)
        async with session_scope(factory) as session:
            block = await quota.take(session, account.id, day, ESTIMATE, LIMIT, now)
        assert block is not None
        other = create_async_engine(url)
        try:
            async with other.connect() as books, other.connect() as watching:
                # The books of a call that used 10 tokens: the hold and the day lowered by 10,
                # used raised by 10, not yet committed.
                await books.execute(
                    text("UPDATE quota_holds SET tokens = tokens - 10 WHERE id = :id"),
                    {"id": block.hold.id},
                )
                await books.execute(
                    text(
                        "UPDATE account_quota_days SET reserved_tokens = reserved_tokens - 10, "
                        "used_tokens = used_tokens + 10 WHERE account_id = :id"
                    ),
                    {"id": account.id},
                )
                later = now + timedelta(seconds=601)
                sweeping = asyncio.create_task(sweep_once(factory, later))
                await until_waiting(watching, kind)
                await books.commit()
                first = await sweeping
            second = await sweep_once(factory, later)
        finally:
            await other.dispose()
        async with factory() as session:
            row = await session.get(AccountQuotaDay, (account.id, day))
            holds = await session.scalar(text("SELECT count(*) FROM quota_holds"))
        await quota.close()
        await engine.dispose()
    assert (first, second) == (0, 1)  # left for the next sweep, which reads it again
    assert (row.used_tokens, row.reserved_tokens, holds) == (10, 0, 0)


async def sweep_once(factory: Any, now: Any) -> int:
    async with session_scope(factory) as session:
        return await ledger.sweep(session, now)


@pytest.mark.parametrize("kind", SERVERS)
async def test_aligning_quota_used_takes_no_day_row_the_books_hold(
    kind: str, tmp_path: Any
) -> None:
    """The books lock an account's day row, then its account. The sweeper's alignment, run in
    between on a stale `quota_used`, must not wait for that day row while it holds the account
    (MariaDB's locking read of an UPDATE's subquery did, and one of the two died a deadlock's
    victim): it finishes first, and the books then set the figure they wrote."""
    async with empty_database(kind, tmp_path) as url:
        engine, factory, platform, account = await one_limited_account(url, LIMIT)
        now = utcnow()
        day = quota_day(platform, now)
        async with session_scope(factory) as session:
            await ledger.reserve(session, account.id, day, 0, LIMIT, now)  # the day's row
            await session.execute(
                text("UPDATE oauth_accounts SET quota_used = 5 WHERE id = :id"), {"id": account.id}
            )
        other = create_async_engine(url)
        try:
            async with other.connect() as books:
                await books.execute(
                    text("UPDATE account_quota_days SET used_tokens = 30 WHERE account_id = :id"),
                    {"id": account.id},
                )
                async with session_scope(factory) as session:  # it sees 0 used: 5 is stale
                    aligned = await asyncio.wait_for(usage.align_quota_used(session, now), 20)
                await books.execute(
                    text("UPDATE oauth_accounts SET quota_used = 30 WHERE id = :id"),
                    {"id": account.id},
                )
                await books.commit()
        finally:
            await other.dispose()
        async with factory() as session:
            used = await session.scalar(
                text("SELECT quota_used FROM oauth_accounts WHERE id = :id"), {"id": account.id}
            )
        await engine.dispose()
    assert (aligned, used) == (1, 30)
