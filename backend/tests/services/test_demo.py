"""DEMO_MODE: a platform that answers without any real account; never in production."""

from __future__ import annotations

import httpx
import pytest

from app.api.deps import app_context
from app.core.config import ConfigurationError, Settings
from app.core.database import session_scope
from app.main import create_app
from app.services.demo.upstream import DemoUpstream
from app.services.platforms import upsert_platforms
from tests.conftest import make_settings, migrate_async, new_user, shipped_platforms_on
from tests.helpers.api import bind


def test_demo_mode_is_refused_in_production():
    with pytest.raises(ConfigurationError, match="DEMO_MODE"):
        Settings(environment="production", demo_mode=True)


async def test_a_newcomer_calls_the_demo_platform_with_any_key(tmp_path, platform_fakes):
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    await migrate_async(url)
    app = create_app(make_settings(url, background_jobs=False, demo_mode=True))
    async with app.router.lifespan_context(app):
        async with session_scope(app_context(app).factory) as session:
            await upsert_platforms(session, shipped_platforms_on(platform_fakes))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            auth = await new_user(app)
            await bind(client, auth, platform="demo", credentials={"api_key": "demo"})
            message = [{"role": "user", "content": "hello demo"}]
            answer = await client.post(
                "/v1/chat/completions", json={"model": "demo", "messages": message}, headers=auth
            )
            assert answer.status_code == 200, answer.text
            content = answer.json()["choices"][0]["message"]["content"]
            assert content == "This is the demo platform. You said: hello demo"
    # Started without DEMO_MODE, the leftover demo platform is switched off.
    app = create_app(make_settings(url, background_jobs=False))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        platforms = (await client.get("/api/v1/oauth/platforms", headers=auth)).json()["data"]
        assert next(p for p in platforms if p["platform_id"] == "demo")["is_enabled"] is False


async def test_the_demo_upstream_streams_openai_chunks():
    upstream = await DemoUpstream(reply="one two three four", chunks=4).start()
    try:
        async with httpx.AsyncClient(base_url=upstream.url) as http:
            body = {"model": "m", "messages": [], "stream": True,
                    "stream_options": {"include_usage": True}}  # fmt: skip
            response = await http.post(
                "/v1/chat/completions", json=body, headers={"Authorization": "Bearer k"}
            )
            events = [e for e in response.text.split("\n\n") if e]
            assert events[-1] == "data: [DONE]"
            assert len(events) == 1 + 4 + 1 + 1 + 1  # role, 4 pieces, finish, usage, DONE
            refused = await http.get("/v1/models")
            assert refused.status_code == 401
    finally:
        await upstream.stop()
