"""Usage counters and rests are upserts written per dialect: exercise them on SQLite,
PostgreSQL and MariaDB (the latter two when they run)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.database import create_engine, create_session_factory, session_scope, utcnow
from app.models import OAuthAccount, PlatformConfig, User
from app.services.calls import account_state, usage
from app.services.calls.classification import Classified
from app.services.calls.quota_clock import quota_day
from app.services.calls.selection import availability
from tests.conftest import migrate_async
from tests.databases import scratch_database

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mariadb", marks=pytest.mark.mysql),
]


async def _exercise(url: str) -> None:
    await migrate_async(url)
    engine = create_engine(url)
    factory = create_session_factory(engine)
    now = utcnow()
    platform = PlatformConfig(
        platform_id="p",
        platform_name="P",
        oauth_config={},
        litellm_config={"provider": "openai", "api_base": "http://x", "default_model": "m"},
        quota_config={"daily_limit": 100},
    )
    async with session_scope(factory) as session:
        user = User(username="u", password_hash=None)
        session.add_all([user, platform])
        await session.flush()
        account = OAuthAccount(user_id=user.id, platform_id="p", account_name="a")
        session.add(account)
        await session.flush()
    day = quota_day(platform, now)
    for _ in range(2):
        async with session_scope(factory) as session:
            await usage.add(
                session, account.id, "m", day, now, usage=usage.TokenUsage(3, 2), requests=1
            )
            await usage.add(session, account.id, "m", day, now, failures=1)
    rate = Classified(kind="rate_limited", message="slow down", retry_after_s=30)
    for _ in range(2):
        async with session_scope(factory) as session:
            await account_state.apply_failure(session, account.id, "m", platform, rate, now)
    async with factory() as session:
        states = await account_state.load_states(session, [(account, platform)], now)
        found = await availability(session, user.id, platform, "m", now)
        later = await availability(session, user.id, platform, "m", now + timedelta(minutes=5))
    state = states[account.id]
    assert state.used_today == 10
    [rest] = state.cooldowns
    assert rest.reason == "rate_limited" and rest.until == now + timedelta(seconds=30)
    assert found.usable == [] and found.waiting_until == rest.until
    assert [a.id for a in later.usable] == [account.id] and later.stale_cooldowns == {account.id}
    async with session_scope(factory) as session:
        for _ in range(10):  # the daily limit (100 tokens) is reached
            await usage.add(session, account.id, "m", day, now, usage=usage.TokenUsage(5, 5))
    async with factory() as session:
        capped = await availability(session, user.id, platform, "m", now + timedelta(minutes=5))
    assert capped.usable == [] and capped.waiting_reasons == {"quota_exhausted"}
    await engine.dispose()


@pytest.mark.parametrize("kind", BACKENDS)
async def test_usage_and_rests_accumulate_on_every_database(kind, tmp_path):
    if kind == "sqlite":
        await _exercise(f"sqlite+aiosqlite:///{tmp_path / 'books.db'}")
        return
    async with scratch_database(kind) as url:
        await _exercise(url)
