"""API keys resolved from the per-process cache: no database statement while nothing changed,
and a revoked key or a disabled or deleted user refused from the very next call, everywhere."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import delete, event, update

from app.api.deps import app_context
from app.core.cache import Generations
from app.core.database import session_scope
from app.core.rate_limit import REDIS_TIMEOUTS
from app.main import create_app
from app.models import CacheGeneration, User
from app.services import api_keys
from tests.conftest import make_settings, new_user
from tests.helpers.api import create_api_key
from tests.helpers.databases import DEAD_REDIS, REDIS_URL


@contextmanager
def statements(app: Any) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block, but for its read of the cache
    generations, which comes at most once a second whatever the block does (app/core/cache.py)
    and so falls inside it now and then."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if CacheGeneration.__tablename__ not in statement:
            seen.append(statement)

    engine = app_context(app).engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def user_id(client: httpx.AsyncClient, auth: dict[str, str]) -> int:
    return (await client.get("/api/v1/auth/me", headers=auth)).json()["data"]["id"]


async def models_status(client: httpx.AsyncClient, key: str) -> int:
    response = await client.get("/v1/models", headers={"Authorization": f"Bearer {key}"})
    return response.status_code


async def test_a_known_key_is_resolved_without_a_database_statement(client, auth, app):
    key = (await create_api_key(client, auth))["key"]
    factory, cache = app_context(app).factory, app_context(app).api_key_cache
    first = await api_keys.authenticate(factory, cache, key)
    with statements(app) as seen:
        again = await api_keys.authenticate(factory, cache, key)
    assert seen == []
    assert again.id == first.id == await user_id(client, auth)


async def test_last_used_at_is_written_without_a_read_and_keeps_the_cache(
    client, auth, app, monkeypatch
):
    monkeypatch.setattr(api_keys, "TOUCH_EVERY", timedelta(seconds=-1))  # every call is due
    key = (await create_api_key(client, auth))["key"]
    factory, cache = app_context(app).factory, app_context(app).api_key_cache
    await api_keys.authenticate(factory, cache, key)
    before = await cache.generations.read(api_keys.API_KEYS)
    with statements(app) as seen:
        await api_keys.authenticate(factory, cache, key)
    assert [s.split()[0] for s in seen] == ["UPDATE"]
    assert await cache.generations.read(api_keys.API_KEYS) == before


async def test_a_cached_key_is_refused_on_the_call_right_after_its_revocation(client, auth):
    created = await create_api_key(client, auth)
    assert [await models_status(client, created["key"]) for _ in range(2)] == [200, 200]
    await client.delete(f"/api/v1/auth/api-keys/{created['id']}", headers=auth)
    assert await models_status(client, created["key"]) == 401


@pytest.mark.parametrize("bulk", [False, True], ids=["orm", "bulk-update"])
async def test_a_disabled_user_is_refused_on_the_next_call_and_served_once_enabled(
    client, auth, app, bulk
):
    key = (await create_api_key(client, auth))["key"]
    uid = await user_id(client, auth)

    async def set_active(active: bool) -> None:
        async with session_scope(app_context(app).factory) as session:
            if bulk:
                await session.execute(update(User).where(User.id == uid).values(is_active=active))
            else:
                user = await session.get(User, uid)
                assert user is not None
                user.is_active = active

    assert [await models_status(client, key) for _ in range(2)] == [200, 200]
    await set_active(False)
    assert await models_status(client, key) == 403
    await set_active(True)
    assert await models_status(client, key) == 200


@pytest.mark.parametrize("bulk", [False, True], ids=["orm", "bulk-delete"])
async def test_a_deleted_users_key_is_refused_on_the_next_call(client, auth, app, bulk):
    key = (await create_api_key(client, auth))["key"]
    uid = await user_id(client, auth)
    assert [await models_status(client, key) for _ in range(2)] == [200, 200]
    async with session_scope(app_context(app).factory) as session:
        if bulk:
            await session.execute(delete(User).where(User.id == uid))
        else:
            await session.delete(await session.get(User, uid))
    assert await models_status(client, key) == 401


async def test_with_redis_unreachable_every_call_reads_the_database(client, auth, app):
    key = (await create_api_key(client, auth))["key"]
    redis = Redis.from_url(DEAD_REDIS, **REDIS_TIMEOUTS)
    cache = api_keys.ApiKeyCache(Generations(redis))
    for _ in range(2):
        with statements(app) as seen:
            await api_keys.authenticate(app_context(app).factory, cache, key)
        assert any(s.lstrip().upper().startswith("SELECT") for s in seen)
    await redis.aclose()


@pytest.mark.redis
async def test_a_revocation_in_one_instance_is_seen_by_another_sharing_redis(sqlite_url):
    settings = make_settings(
        sqlite_url,
        redis_url=REDIS_URL,
        redis_key_prefix=f"test-{uuid.uuid4().hex[:8]}",
        background_jobs=False,
    )
    first_app, second_app = create_app(settings), create_app(settings)
    async with (
        first_app.router.lifespan_context(first_app),
        second_app.router.lifespan_context(second_app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=first_app), base_url="http://t") as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=second_app), base_url="http://t") as b,
    ):
        auth = await new_user(first_app)
        created = await create_api_key(a, auth)
        assert [await models_status(b, created["key"]) for _ in range(2)] == [200, 200]
        await a.delete(f"/api/v1/auth/api-keys/{created['id']}", headers=auth)
        assert await models_status(b, created["key"]) == 401
