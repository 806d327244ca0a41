"""The call path's books are written per dialect (upserts, conditional updates): exercise them on
SQLite, PostgreSQL and MariaDB (the latter two when they run)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.api.deps import app_context
from app.core.database import session_scope, utcnow
from app.models import AccountQuotaDay, OAuthAccount, QuotaHold, User
from app.services import account_status
from app.services.calls import account_state, usage
from app.services.calls.account_cache import _load_accounts
from app.services.calls.selection import availability
from app.services.oauth.adapters.errors import Classified
from app.services.quota import ledger
from app.services.quota.quota_clock import quota_day
from tests.helpers.databases import empty_database, one_limited_account

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mariadb", marks=pytest.mark.mysql),
]
LIMIT = 100


async def _exercise(url: str) -> None:
    engine, factory, platform, account = await one_limited_account(url, LIMIT)
    now = utcnow()
    day = quota_day(platform, now)
    later = now + timedelta(minutes=5)

    async def survey(when):
        async with factory() as session:
            found = await _load_accounts(session, account.user_id, "p")
            totals = await ledger.totals(session, [account.id], {day})
        by_id = {a: t for (a, _), t in totals.items()}
        return availability(found.accounts, found.cooldowns, by_id, platform, "m", when)

    # Two calls reserve 40 each; one settles at 10 tokens, the other fails and releases.
    async with session_scope(factory) as session:
        first = await ledger.reserve(session, account.id, day, 40, LIMIT, later)
        second = await ledger.reserve(session, account.id, day, 40, LIMIT, later)
    assert first is not None and second is not None
    async with session_scope(factory) as session:
        assert await ledger.forget(session, first)
        await ledger.count(session, account.id, day, used=10, reserved=-40)
        await usage.add(session, account.id, "m", day, now, usage=usage.TokenUsage(6, 4))
        await ledger.release(session, second)
        await ledger.release(session, second)  # given back once only
    rate = Classified(kind="rate_limited", message="slow down", retry_after_s=30)
    for _ in range(2):
        async with session_scope(factory) as session:
            await account_state.apply_failure(
                session, account.user_id, account.id, "m", platform, rate, now
            )
    async with factory() as session:
        states = await account_status.load_states(session, [(account, platform)], now)
        quota_row = await session.get(AccountQuotaDay, (account.id, day))
    state = states[account.id]
    assert (quota_row.used_tokens, quota_row.reserved_tokens) == (10, 0)
    await _check_quota_used_column(factory, account.id, day, now)
    assert state.used_today == 10
    [rest] = state.cooldowns
    assert rest.reason == "rate_limited" and rest.until == now + timedelta(seconds=30)
    resting = await survey(now)
    assert resting.usable == [] and resting.waiting_until == rest.until
    recovered = await survey(later)
    assert [a.id for a in recovered.usable] == [account.id]
    assert recovered.stale_cooldowns == {account.id} and recovered.remaining[account.id] == 90

    # A hold left by a crashed worker blocks the last tokens until it expires, then is swept.
    async with session_scope(factory) as session:
        crashed = await ledger.reserve(session, account.id, day, 95, LIMIT, now - timedelta(1))
        assert crashed is not None  # 10 used: 90 left, so 95 is admitted (one estimate over)
        revived = await ledger.reserve(session, account.id, day, 5, LIMIT, later)
    assert revived is not None  # the expired hold was given back to make room
    async with session_scope(factory) as session:
        assert await ledger.forget(session, revived)
        await ledger.count(session, account.id, day, used=95, reserved=-5)
        assert await ledger.reserve(session, account.id, day, 1, LIMIT, later) is None
    async with factory() as session:
        quota_row = await session.get(AccountQuotaDay, (account.id, day))
        holds = (await session.scalars(QuotaHold.__table__.select())).all()
    assert (quota_row.used_tokens, quota_row.reserved_tokens, holds) == (105, 0, [])
    capped = await survey(later)
    assert capped.usable == [] and capped.waiting_reasons == {"quota_exhausted"}
    await engine.dispose()


async def _check_quota_used_column(factory, account_id: int, day, now) -> None:
    """The seed's `quota_used` follows the ledger: set with the books, and back to 0 once the
    quota day turns (the sweeper's round)."""

    async def column() -> int:
        async with factory() as session:
            return (await session.get(OAuthAccount, account_id)).quota_used

    async with session_scope(factory) as session:
        await usage.mark_used(session, account_id, day, now)
    assert await column() == 10
    async with session_scope(factory) as session:
        assert await usage.align_quota_used(session, now) == 0  # already right
        assert await usage.align_quota_used(session, now + timedelta(days=1)) == 1
    assert await column() == 0
    async with session_scope(factory) as session:
        assert await usage.align_quota_used(session, now) == 1
    assert await column() == 10


@pytest.mark.parametrize("kind", BACKENDS)
async def test_ledger_usage_and_rests_on_every_database(kind, tmp_path):
    async with empty_database(kind, tmp_path) as url:
        await _exercise(url)


async def test_the_sweeper_gives_back_holds_of_calls_that_died(app):
    from app.services.background import BackgroundJobs

    async with session_scope(app_context(app).factory) as session:
        user = User(username=f"sweep-{utcnow().timestamp()}", password_hash=None)
        session.add(user)
        await session.flush()
        account = OAuthAccount(user_id=user.id, platform_id="openai", account_name="swept")
        session.add(account)
        await session.flush()
        day = utcnow().date()
        dead = await ledger.reserve(session, account.id, day, 70, LIMIT, utcnow() - timedelta(1))
    assert dead is not None
    assert await BackgroundJobs(app_context(app)).sweep_holds() >= 1
    async with app_context(app).factory() as session:
        row = await session.get(AccountQuotaDay, (account.id, day))
    assert (row.used_tokens, row.reserved_tokens) == (0, 0)
