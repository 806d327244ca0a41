"""A route edited on one instance is followed by the very next call on another instance sharing
the database, although that one caches the routes its callers see: with Redis (the generation
bumped there) and without (bumped in the database's `cache_generations`). Edits through the
user's API, the administrators' API and a bulk statement such as a script would run all count.

Without Redis a process reads the database's generations at most once a second
(`DATABASE_READ_EVERY_S`); here it reads them at every call, so that what is checked is that the
edit's bump reaches the database, not how long a process waits before looking."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from app.api.deps import app_context
from app.core import cache
from app.core.database import session_scope
from app.main import create_app
from app.models import ModelRoute
from app.models.model_route import DEPLOYMENT
from tests.conftest import make_settings, new_user
from tests.helpers.api import account
from tests.helpers.calls import said
from tests.helpers.databases import REDIS_URL

ZHIPU, QWEN = "zhipu/glm-4-flash", "qwen/qwen-turbo"


@asynccontextmanager
async def two_instances(sqlite_url: str, redis: bool) -> AsyncIterator[list[Any]]:
    """Two instances on the test database (its platforms on the fakes), sharing their JWT
    secret as instances behind one load balancer do, and Redis when `redis`."""
    shared: dict[str, Any] = {"jwt_secret": secrets.token_urlsafe(32), "background_jobs": False}
    if redis:
        shared |= {"redis_url": REDIS_URL, "redis_key_prefix": f"test-{uuid.uuid4().hex[:8]}"}
    instances = [create_app(make_settings(sqlite_url, **shared)) for _ in range(2)]
    async with AsyncExitStack() as stack:
        clients = []
        for instance in instances:
            await stack.enter_async_context(instance.router.lifespan_context(instance))
            transport = httpx.ASGITransport(app=instance)
            client = httpx.AsyncClient(transport=transport, base_url="http://t")
            clients.append(await stack.enter_async_context(client))
        yield [*zip(instances, clients, strict=True)]


async def served_by(client: httpx.AsyncClient, auth: dict[str, str], name: str) -> str | int:
    """The target that answered a call for `name`, or the status of a refusal."""
    body = {"model": name, "messages": said()}
    response = await client.post("/api/v1/oauth/chat/completions", json=body, headers=auth)
    if response.status_code != 200:
        return response.status_code
    return response.headers["x-oauth-proxy-target"]


async def put_route(
    client: httpx.AsyncClient, auth: dict[str, str], scope: str, name: str, target: str
) -> None:
    body = {"targets": [{"model": target}], "strategy": "ordered"}
    response = await client.put(f"/api/v1/{scope}/routes/{name}", json=body, headers=auth)
    assert response.status_code == 200, response.text


async def delete_route(
    client: httpx.AsyncClient, auth: dict[str, str], scope: str, name: str
) -> None:
    response = await client.delete(f"/api/v1/{scope}/routes/{name}", headers=auth)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "redis", [False, pytest.param(True, marks=pytest.mark.redis)], ids=["no redis", "redis"]
)
async def test_a_route_edit_is_followed_at_once_by_another_instance(
    app: Any, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, redis: bool
):
    monkeypatch.setattr(cache, "DATABASE_READ_EVERY_S", 0.0)
    async with two_instances(sqlite_url, redis) as [(first, editor), (_, caller)]:
        user, admin = await new_user(first), await new_user(first, admin=True)
        for platform in ("zhipu", "qwen"):
            await account(editor, user, platform)
        name = f"live-{uuid.uuid4().hex[:8]}"
        assert await served_by(caller, user, name) == 404  # no route yet: cached as such

        await put_route(editor, admin, "admin", name, ZHIPU)
        assert await served_by(caller, user, name) == ZHIPU
        await put_route(editor, user, "oauth", name, QWEN)  # the user's own shadows it
        assert await served_by(caller, user, name) == QWEN
        await delete_route(editor, user, "oauth", name)
        assert await served_by(caller, user, name) == ZHIPU

        async with session_scope(app_context(first).factory) as session:
            await session.execute(  # as a script would
                update(ModelRoute)
                .where(ModelRoute.owner_id == DEPLOYMENT, ModelRoute.name == name)
                .values(targets=[{"model": QWEN, "weight": 1}])
            )
        assert await served_by(caller, user, name) == QWEN
        await delete_route(editor, admin, "admin", name)
        assert await served_by(caller, user, name) == 404
