"""Production settings that keep secrets safe: a long enough JWT secret, `/metrics` behind a
token with per-account series opt-in, and `/docs` running only the service's own files."""

from __future__ import annotations

import uuid

import httpx
import pytest

from app.core.config import ConfigurationError, Settings
from app.main import create_app
from tests.conftest import TEST_KEY, make_settings, new_user
from tests.helpers.api import bind

PRODUCTION = {"environment": "production", "credential_keys": f"k1:{TEST_KEY}"}


def test_production_refuses_an_hs256_secret_shorter_than_32_bytes():
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        Settings(**PRODUCTION, jwt_secret="x" * 31)
    assert Settings(**PRODUCTION, jwt_secret="x" * 32).jwt_secret is not None
    # Development keeps accepting it (PyJWT warns).
    assert Settings(environment="development", jwt_secret="short").jwt_secret is not None


def test_private_outbound_addresses_default_by_environment(monkeypatch):
    monkeypatch.delenv("OUTBOUND_ALLOW_PRIVATE")
    assert Settings(environment="development").allows_private_outbound is True
    assert Settings(**PRODUCTION, jwt_secret="x" * 32).allows_private_outbound is False
    assert (
        Settings(**PRODUCTION, jwt_secret="x" * 32, outbound_allow_private=True)
    ).allows_private_outbound is True


async def _metrics(url: str, headers: dict[str, str] | None = None, **overrides) -> httpx.Response:
    served = create_app(make_settings(url, background_jobs=False, **overrides))
    async with served.router.lifespan_context(served):
        transport = httpx.ASGITransport(app=served)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.get("/metrics", headers=headers or {})


async def test_metrics_need_the_bearer_token_when_one_is_set(sqlite_url):
    token = uuid.uuid4().hex
    assert (await _metrics(sqlite_url, metrics_token=token)).status_code == 401
    wrong = await _metrics(sqlite_url, {"Authorization": "Bearer nope"}, metrics_token=token)
    assert wrong.status_code == 401 and token not in wrong.text
    right = await _metrics(sqlite_url, {"Authorization": f"Bearer {token}"}, metrics_token=token)
    assert right.status_code == 200 and "oauth_proxy_accounts" in right.text


async def test_per_account_series_are_published_only_when_asked_for(app, client, sqlite_url):
    auth = await new_user(app)
    account = await bind(client, auth, credentials={"api_key": f"sk-{uuid.uuid4().hex}"})
    series = f'account="{account["id"]}"'
    assert series not in (await _metrics(sqlite_url, metrics_per_account=False)).text
    assert series in (await _metrics(sqlite_url, metrics_per_account=True)).text


async def test_swagger_ui_runs_only_the_services_own_files(client):
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "cdn." not in page.text and "https://" not in page.text
    assert "/docs/assets/swagger-ui-bundle.js" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    bundle = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and "SwaggerUIBundle" in bundle.text
    assert (await client.get("/docs/assets/..%2Fcore.py")).status_code in (404, 422)
