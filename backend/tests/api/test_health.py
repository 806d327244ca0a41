"""Liveness and readiness."""

from __future__ import annotations

import httpx

from app.main import create_app
from tests.conftest import make_settings, migrate_async


async def _get(application, path: str) -> httpx.Response:
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.get(path)


async def test_healthz_answers_while_the_process_runs(client):
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_reports_the_schema_at_head(client, app):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["schema"] == app.state.migration_head


async def test_readyz_is_503_while_migrations_are_pending(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await migrate_async(url, "base")
    response = await _get(create_app(make_settings(url)), "/readyz")
    assert response.status_code == 503
    assert response.json()["database"] in {"migrations pending", "unreachable"}


async def test_readyz_is_503_when_redis_is_unreachable(sqlite_url):
    # Nothing listens on port 1.
    response = await _get(
        create_app(make_settings(sqlite_url, redis_url="redis://127.0.0.1:1/0")), "/readyz"
    )
    assert response.status_code == 503
    assert response.json()["redis"] == "unreachable"


async def test_responses_carry_a_request_id(client):
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    generated = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["x-request-id"] != "bad id with spaces"
    assert len(generated.headers["x-request-id"]) == 32
