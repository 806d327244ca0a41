"""With REDIS_URL set, limits and readiness span every worker and instance."""

from __future__ import annotations

import uuid

import httpx
import pytest

from app.main import create_app
from tests.conftest import make_settings
from tests.helpers.databases import REDIS_URL

pytestmark = pytest.mark.redis


async def test_failed_sign_ins_are_counted_across_instances(sqlite_url):
    """Two instances share one Redis: three failures spread over both trip the limit on both."""
    instances = [
        create_app(make_settings(sqlite_url, redis_url=REDIS_URL, signin_failure_limit="3/minute"))
        for _ in range(2)
    ]
    username = f"shared-{uuid.uuid4().hex[:8]}"
    good = {"username": username, "password": "a long password"}
    bad = {"username": username, "password": "wrong password"}
    first_app, second_app = instances
    async with (
        first_app.router.lifespan_context(first_app),
        second_app.router.lifespan_context(second_app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=first_app), base_url="http://t") as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=second_app), base_url="http://t") as b,
    ):
        assert (await a.post("/api/v1/auth/register", json=good)).status_code == 200
        statuses = [(await c.post("/api/v1/auth/login", json=bad)).status_code for c in (a, b, a)]
        assert statuses == [401, 401, 401]
        for client in (a, b):
            assert (await client.post("/api/v1/auth/login", json=good)).status_code == 429
        assert (await a.get("/readyz")).json()["redis"] == "ok"
