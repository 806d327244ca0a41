"""What monitoring reads and writes, on SQLite, PostgreSQL and MariaDB (the latter two when they
run): each account's state and quota, alerts deduplicated by their open key even when workers
race, and the success-rate sums over the usage counters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.database import create_engine, create_session_factory, session_scope, utcnow
from app.models import (
    AccountCooldown,
    AccountQuotaDay,
    AccountUsage,
    OAuthAccount,
    PlatformConfig,
    User,
)
from app.services import account_health
from app.services.alerts import store
from app.services.alerts.success_rate import SuccessRates
from app.services.quota.quota_clock import next_reset, quota_day
from tests.conftest import migrate_async
from tests.helpers.databases import empty_database

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mariadb", marks=pytest.mark.mysql),
]
LIMIT = 1000


@pytest.fixture(params=BACKENDS)
async def factory(request, tmp_path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with empty_database(request.param, tmp_path) as url:
        await migrate_async(url)
        engine = create_engine(url)
        yield create_session_factory(engine)
        await engine.dispose()


async def test_account_states_and_quota_today(factory):
    now = utcnow()
    platform = PlatformConfig(
        platform_id="p", platform_name="P", oauth_config={},
        litellm_config={"provider": "openai", "api_base": "http://x", "default_model": "m"},
        quota_config={"daily_limit": LIMIT},
    )  # fmt: skip
    async with session_scope(factory) as session:
        user = User(username="u", password_hash=None)
        session.add_all([user, platform])
        await session.flush()
        names = ["active", "disabled", "expired", "exhausted", "over limit", "cooling"]
        accounts = {
            n: OAuthAccount(user_id=user.id, platform_id="p", account_name=n) for n in names
        }
        accounts["disabled"].is_active = False
        accounts["expired"].is_expired = True
        accounts["exhausted"].exhausted_until = now + timedelta(hours=1)
        session.add_all(accounts.values())
        await session.flush()
        day = quota_day(platform, now)
        session.add_all(
            [
                AccountQuotaDay(account_id=accounts["active"].id, day=day, used_tokens=300,
                                reserved_tokens=50),
                AccountQuotaDay(account_id=accounts["active"].id, day=day - timedelta(days=1),
                                used_tokens=999),
                AccountQuotaDay(account_id=accounts["over limit"].id, day=day, used_tokens=LIMIT),
                AccountCooldown(account_id=accounts["cooling"].id, model="m",
                                reason="overloaded", until=now + timedelta(seconds=10)),
            ]
        )  # fmt: skip

    async with factory() as session:
        everyone = {h.account_name: h for h in await account_health.load(session, now)}
        mine = await account_health.load(session, now, user_id=user.id, platform_id="p")
    assert {n: h.state for n, h in everyone.items()} == {
        "active": "active", "disabled": "disabled", "expired": "expired",
        "exhausted": "exhausted", "over limit": "exhausted", "cooling": "cooling",
    }  # fmt: skip
    assert [h.account_name for h in mine] == names
    active = everyone["active"]
    assert (active.used_today, active.remaining_today) == (300, LIMIT - 300 - 50)
    assert everyone["exhausted"].usable_again_at == now + timedelta(hours=1)
    assert everyone["over limit"].usable_again_at == next_reset(platform, now)
    assert everyone["over limit"].remaining_today == 0


async def test_one_open_alert_per_condition_even_when_workers_race(factory):
    condition = store.Condition("success_rate_low", "platform:p", "P: 10% answered", "p")
    raised = await asyncio.gather(*(store.raise_alert(factory, condition) for _ in range(5)))
    winners = [a for a in raised if a is not None]
    assert len(winners) == 1
    alert = winners[0]
    async with factory() as session:
        assert [a.id for a in await store.open_alerts(session, "success_rate_low")] == [alert.id]

    resolved = await store.resolve(factory, alert.id, utcnow())
    assert resolved is not None and resolved.resolved_at is not None and resolved.open_key is None
    assert await store.resolve(factory, alert.id, utcnow()) is None  # once only
    # Resolved alerts keep no key: the same condition can open a new one, and both are listed.
    again = await store.raise_alert(factory, condition)
    assert again is not None and again.id != alert.id
    async with factory() as session:
        listed = await store.recent(session, limit=10)
        closed = await store.recent(session, state="resolved", limit=10)
    assert [a.id for a in listed] == [again.id, alert.id]
    assert [a.id for a in closed] == [alert.id]


async def test_success_rates_are_the_growth_of_the_usage_counters(factory):
    today = utcnow().date()
    async with session_scope(factory) as session:
        user = User(username="u", password_hash=None)
        session.add(user)
        await session.flush()
        account = OAuthAccount(user_id=user.id, platform_id="p", account_name="a")
        session.add(account)
        await session.flush()
        # Yesterday's rows count too (a quota day may lag UTC), from the first sample on.
        session.add(AccountUsage(account_id=account.id, model="m", day=today - timedelta(days=1),
                                 requests=500, failures=500))  # fmt: skip
    rates = SuccessRates(window_s=60)
    async with factory() as session:
        assert await rates.sample(session, 0.0, today) is None
    async with session_scope(factory) as session:
        session.add(AccountUsage(account_id=account.id, model="m", day=today, requests=3,
                                 failures=1))  # fmt: skip
        session.add(AccountUsage(account_id=account.id, model="n", day=today, failures=4))
    async with factory() as session:
        rate = (await rates.sample(session, 30.0, today))["p"]  # type: ignore[index]
    assert (rate.answered, rate.failed, rate.span_s) == (3, 5, 30.0)
    assert rate.share == 3 / 8
    async with factory() as session:
        # A minute on, the window starts at the second sample: nothing new since.
        rate = (await rates.sample(session, 90.0, today))["p"]  # type: ignore[index]
    assert (rate.attempts, rate.span_s) == (0, 60.0)
