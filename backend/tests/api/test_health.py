"""Liveness and readiness."""

from __future__ import annotations

import httpx

from app.api.deps import app_context
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
    assert response.json()["schema"] == app_context(app).migration_head


async def test_readyz_is_503_while_migrations_are_pending(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await migrate_async(url, "base")
    response = await _get(create_app(make_settings(url)), "/readyz")
    assert response.status_code == 503
    assert response.json()["database"] in {"migrations pending", "unreachable"}


async def test_readyz_stays_ready_but_degraded_when_redis_is_unreachable(sqlite_url):
    # Nothing listens on port 1; the service counts in-process meanwhile.
    response = await _get(
        create_app(make_settings(sqlite_url, redis_url="redis://127.0.0.1:1/0")), "/readyz"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["redis"] == "unreachable"


async def test_responses_carry_a_request_id(client):
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    generated = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["x-request-id"] != "bad id with spaces"
    assert len(generated.headers["x-request-id"]) == 32


async def test_every_response_carries_the_security_headers(client):
    for response in (await client.get("/healthz"), await client.get("/api/v1/nowhere")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"


async def test_cors_is_closed_by_default_and_opens_per_configured_origin(client, sqlite_url):
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    closed = await client.options("/api/v1/auth/login", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers
    opened = create_app(make_settings(sqlite_url, cors_origins="https://app.example"))
    async with opened.router.lifespan_context(opened):
        transport = httpx.ASGITransport(app=opened)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            allowed = await c.options(
                "/api/v1/auth/login",
                headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
            )
            refused = await c.options("/api/v1/auth/login", headers=preflight)
            answered = await c.get("/healthz", headers={"Origin": "https://app.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in refused.headers
    # What served a call is readable by a browser's script on an allowed origin.
    listed = answered.headers["access-control-expose-headers"]
    exposed = {name.strip().lower() for name in listed.split(",")}
    assert {"x-oauth-proxy-target", "x-oauth-proxy-account", "x-request-id"} <= exposed
