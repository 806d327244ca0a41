"""The quota's rules, each on fresh service instances over one database: the daily reset at the
platform's midnight (with a moved clock), a platform's Retry-After cooling an account in every
instance and across a restart, requests per minute held across instances, most_remaining
spreading calls by what is left, and the per-account concurrency cap.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from app.api.deps import app_context
from app.core.database import session_scope
from app.main import create_app
from app.models import AccountQuotaDay, OAuthAccount, PlatformConfig
from app.services.platforms import upsert_platforms
from tests.conftest import make_settings, migrate_async, new_user, shipped_platforms_on
from tests.fakes.upstream import Reply, Slow, errors
from tests.helpers.api import bind
from tests.helpers.databases import REDIS_URL

pytestmark = pytest.mark.serial


@asynccontextmanager
async def instance(url: str, fakes: Any, **settings: Any) -> AsyncIterator[Any]:
    """One service instance on the database at `url`, its platforms on the fakes; the instances
    of one database share their Redis keys, as one deployment's do."""
    app = create_app(
        make_settings(
            url,
            background_jobs=False,
            litellm_cache_enabled=False,
            redis_key_prefix=f"test:{url}",
            **settings,
        )
    )
    async with app.router.lifespan_context(app):
        async with session_scope(app_context(app).factory) as session:
            await upsert_platforms(session, shipped_platforms_on(fakes))
        yield app


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def set_quota(app: Any, **quota: Any) -> None:
    async with session_scope(app_context(app).factory) as session:
        platform = await session.scalar(
            select(PlatformConfig).where(PlatformConfig.platform_id == "openai")
        )
        platform.quota_config = quota


async def add_accounts(app: Any, http: httpx.AsyncClient, auth: dict, count: int) -> list[dict]:
    accounts = []
    for n in range(count):
        key = f"sk-rules-{n}-{uuid.uuid4().hex[:12]}"
        bound = await bind(
            http, auth, platform="openai", account_name=f"rules {n}", credentials={"api_key": key}
        )
        accounts.append(bound | {"key": key})
    return accounts


async def call(http: httpx.AsyncClient, auth: dict, words: int = 3) -> httpx.Response:
    text = " ".join(uuid.uuid4().hex[:5] for _ in range(words))
    body = {"model": "openai/gpt-4.1-mini", "messages": [{"role": "user", "content": text}]}
    return await http.post("/v1/chat/completions", json=body, headers=auth)


@pytest.fixture
async def database(tmp_path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rules.db'}"
    await migrate_async(url)
    return url


ZONES = [  # (reset_timezone, one minute before its midnight, in UTC)
    pytest.param("Asia/Shanghai", datetime(2026, 11, 28, 15, 59, 30, tzinfo=UTC), id="shanghai"),
    pytest.param(
        "America/Los_Angeles", datetime(2026, 11, 29, 7, 59, 30, tzinfo=UTC), id="pacific"
    ),
]


@pytest.mark.parametrize(("zone", "before_midnight"), ZONES)
async def test_the_daily_limit_resets_at_the_platforms_midnight(
    zone, before_midnight, database, platform_fakes
):
    async with instance(database, platform_fakes) as app, client(app) as http:
        await set_quota(app, daily_limit=50, reset_timezone=zone)
        auth = await new_user(app)
        [account] = await add_accounts(app, http, auth, 1)
        chooser = app_context(app).call_path.chooser
        chooser.clock = lambda: before_midnight
        assert (await call(http, auth, words=60)).status_code == 200  # 61 tokens: spent
        refused = await call(http, auth)
        assert refused.status_code == 429 and "out of quota" in refused.text
        assert refused.headers["retry-after"] == "30"  # the platform's midnight, not ours
        chooser.clock = lambda: before_midnight + timedelta(seconds=31)
        assert (await call(http, auth)).status_code == 200
        async with app_context(app).factory() as session:
            days = dict(
                (await session.execute(
                    select(AccountQuotaDay.day, AccountQuotaDay.used_tokens)
                    .where(AccountQuotaDay.account_id == account["id"])
                )).all()
            )  # fmt: skip
    local = before_midnight.astimezone(ZoneInfo(zone)).date()
    assert days == {local: 61, local + timedelta(days=1): 4}


@pytest.mark.redis
async def test_a_retry_after_cools_the_account_everywhere_and_through_a_restart(
    database, platform_fakes
):
    fake = platform_fakes.openai
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(
            instance(database, platform_fakes, redis_url=REDIS_URL)
        )
        second = await stack.enter_async_context(
            instance(database, platform_fakes, redis_url=REDIS_URL)
        )
        http_a = await stack.enter_async_context(client(first))
        http_b = await stack.enter_async_context(client(second))
        auth = await new_user(first)
        [account] = await add_accounts(first, http_a, auth, 1)
        assert (await call(http_b, auth)).status_code == 200  # the second instance caches it
        fake.script(errors.openai_rate_limited(retry_after=2), credential=account["key"])
        cooled = await call(http_a, auth)
        assert cooled.status_code == 429 and cooled.headers["retry-after"] == "2"
        seen = len(fake.model_requests)
        elsewhere = await call(http_b, auth)  # the other instance knows without asking
        assert elsewhere.status_code == 429 and len(fake.model_requests) == seen
    async with (
        instance(database, platform_fakes, redis_url=REDIS_URL) as restarted,
        client(restarted) as http,
    ):
        after_restart = await call(http, auth)
        assert after_restart.status_code == 429 and len(fake.model_requests) == seen
        assert int(after_restart.headers["retry-after"]) <= 2
        await asyncio.sleep(int(after_restart.headers["retry-after"]))  # rounded up
        assert (await call(http, auth)).status_code == 200  # the deadline passed: it serves


@pytest.mark.redis
async def test_requests_per_minute_hold_across_instances(database, platform_fakes):
    async with AsyncExitStack() as stack:
        apps = [
            await stack.enter_async_context(instance(database, platform_fakes, redis_url=REDIS_URL))
            for _ in range(2)
        ]
        https = [await stack.enter_async_context(client(app)) for app in apps]
        await set_quota(apps[0], rate_limit=60)
        auth = await new_user(apps[0])
        await add_accounts(apps[0], https[0], auth, 1)
        statuses = await asyncio.gather(*(call(https[n % 2], auth) for n in range(70)))
    answered = [r for r in statuses if r.status_code == 200]
    refused = [r for r in statuses if r.status_code == 429]
    assert len(answered) == 60 and len(refused) == 10
    assert all(0 < int(r.headers["retry-after"]) <= 60 for r in refused)
    assert all("rate-limited" in r.text for r in refused)


async def test_most_remaining_spreads_calls_by_what_is_left(database, platform_fakes):
    async with instance(database, platform_fakes) as app, client(app) as http:
        await set_quota(app, daily_limit=10_000, strategy="most_remaining")
        auth = await new_user(app)
        accounts = await add_accounts(app, http, auth, 3)
        limits = {accounts[0]["id"]: 900, accounts[1]["id"]: 600, accounts[2]["id"]: 300}
        async with session_scope(app_context(app).factory) as session:
            for account_id, limit in limits.items():
                (await session.get(OAuthAccount, account_id)).quota_limit = limit
        for _ in range(60):
            answer = await call(http, auth, words=19)  # 20 tokens each
            assert answer.status_code == 200, answer.text
        listed = (await http.get("/api/v1/oauth/accounts", headers=auth)).json()["data"]
    left = {a["id"]: limits[a["id"]] - a["quota_used"] for a in listed}
    # 1,200 tokens: the 900 account alone until level with the 600 one (300), both until level
    # with the 300 one (600), then all three (300): 200 left on each, give or take one call.
    assert max(left.values()) - min(left.values()) <= 20, left
    assert sum(limits.values()) - sum(left.values()) == 1200


async def test_the_concurrency_cap_holds(database, platform_fakes):
    async with instance(database, platform_fakes) as app, client(app) as http:
        await set_quota(app, max_concurrency=1)
        auth = await new_user(app)
        accounts = await add_accounts(app, http, auth, 2)
        for account in accounts:
            platform_fakes.openai.script(*[Slow(0.3, Reply())] * 3, credential=account["key"])
        started = time.monotonic()
        answers = await asyncio.gather(*(call(http, auth) for _ in range(6)))
        took = time.monotonic() - started
    assert [a.status_code for a in answers] == [200] * 6
    # One call at a time on each of two accounts: six 0.3 s calls take three rounds at least.
    assert took >= 0.85, took


@pytest.mark.redis
async def test_disabling_an_account_counts_from_the_next_request_everywhere(
    database, platform_fakes
):
    async with AsyncExitStack() as stack:
        first, second = [
            await stack.enter_async_context(instance(database, platform_fakes, redis_url=REDIS_URL))
            for _ in range(2)
        ]
        http_a = await stack.enter_async_context(client(first))
        http_b = await stack.enter_async_context(client(second))
        auth = await new_user(first)
        [account] = await add_accounts(first, http_a, auth, 1)
        assert (await call(http_b, auth)).status_code == 200  # cached by the second instance
        toggled = await http_a.put(f"/api/v1/oauth/accounts/{account['id']}/toggle", headers=auth)
        assert toggled.json()["data"]["is_active"] is False
        refused = await call(http_b, auth)
        assert refused.status_code == 400 and "1 disabled" in refused.text


async def test_a_call_that_cannot_wait_for_a_busy_account_is_told_so(database, platform_fakes):
    async with (
        instance(database, platform_fakes, call_queue_seconds=0.2) as app,
        client(app) as http,
    ):
        await set_quota(app, max_concurrency=1)
        auth = await new_user(app)
        [account] = await add_accounts(app, http, auth, 1)
        platform_fakes.openai.script(Slow(1.0, Reply()), credential=account["key"])
        answers = await asyncio.gather(call(http, auth), call(http, auth))
    served, refused = sorted(answers, key=lambda r: r.status_code)
    assert served.status_code == 200
    assert refused.status_code == 429 and "busy with other calls" in refused.text
    assert int(refused.headers["retry-after"]) >= 1


async def test_an_account_whose_daily_tokens_are_spent_shows_exhausted_until_the_reset(
    database, platform_fakes
):
    async with instance(database, platform_fakes) as app, client(app) as http:
        await set_quota(app, daily_limit=50)
        auth = await new_user(app)
        [account] = await add_accounts(app, http, auth, 1)
        assert (await call(http, auth, words=60)).status_code == 200  # 61 tokens: spent
        listed = (await http.get("/api/v1/oauth/accounts", headers=auth)).json()["data"]
    [shown] = [a for a in listed if a["id"] == account["id"]]
    assert (shown["status"], shown["quota_used"], shown["quota_limit"]) == ("exhausted", 61, 50)
    assert shown["reset_at"] == shown["quota_reset_at"]
