"""The OAuth client on Authlib's real HTTP stack when the token endpoint fails: it refuses
connections, stalls past OUTBOUND_TIMEOUT, or answers 500. The code-exchange callback, the
device poll and the renewal each end in a final state with the reason (a renewal after one
retry), never a 500 and never a session left unfinished past its expiry."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app.api.deps import app_context
from app.core.database import session_scope, utcnow
from app.models import AuthorizationSession, OAuthAccount, PlatformConfig
from app.schemas.platform import PlatformConfigIn
from app.services.background import BackgroundJobs
from app.services.oauth.token_lifecycle import CredentialRenewer
from app.services.platforms import upsert_platforms
from tests.conftest import accepts_credential, new_user
from tests.fakes.oauth_server import ClientSpec, FakeOAuthServer
from tests.fakes.server import serve
from tests.helpers.oauth import CALLBACK, callback, follow_as_browser, poll_now

PLATFORM = "brittle"
TIMEOUT_S = 0.5


@pytest.fixture(scope="module")
def oauth_server() -> Iterator[FakeOAuthServer]:
    server = FakeOAuthServer(
        clients={"brittle-client": ClientSpec(redirect_uris=(CALLBACK,))},
        access_token_ttl_s=60,
        device_interval_s=0,
        slow_down_increment_s=0,
    )
    with serve(server.app) as running:
        server.url = running.url
        yield server


@pytest.fixture(scope="module")
def failing_endpoints() -> Iterator[dict[str, str]]:
    """A token endpoint for each way of failing, and the 500 server's request count; `nonsense`
    answers 200 with a body that is not JSON."""
    hits: list[str] = []

    async def broken(request: Request) -> PlainTextResponse:
        hits.append(request.url.path)
        return PlainTextResponse("Internal Server Error", status_code=500)

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    refused_port = closed.getsockname()[1]
    closed.close()  # nothing listens there: connections are refused
    stalled = socket.socket()
    stalled.bind(("127.0.0.1", 0))
    stalled.listen(16)  # connections are queued but never accepted nor answered

    async def nonsense(request: Request) -> PlainTextResponse:
        return PlainTextResponse("{not json", media_type="application/json")

    routes = [
        Route("/token", broken, methods=["POST"]),
        Route("/nonsense", nonsense, methods=["POST"]),
    ]
    with serve(Starlette(routes=routes)) as failing:
        yield {
            "refused": f"http://127.0.0.1:{refused_port}/token",
            "stalled": f"http://127.0.0.1:{stalled.getsockname()[1]}/token",
            "http_500": f"{failing.url}/token",
            "nonsense": f"{failing.url}/nonsense",  # 200, but no JSON
            "hits": hits,  # type: ignore[dict-item]
        }
    stalled.close()


@pytest.fixture
async def brittle(app, oauth_server, platform_fakes, monkeypatch):
    """The platform with a working token endpoint; `break_token_endpoint` swaps it."""
    platform_fakes.openai.keys = lambda c: (
        oauth_server.is_access_token_valid(c) or accepts_credential(c)
    )
    base = oauth_server.url
    entry = PlatformConfigIn.model_validate(
        {
            "platform_id": PLATFORM,
            "platform_name": "Brittle AI",
            "oauth_config": {
                "login_methods": ["oauth", "device"],
                "authorization_endpoint": f"{base}/authorize?auto_approve=1",
                "token_endpoint": f"{base}/token",
                "device_authorization_endpoint": f"{base}/device/code",
                "client_id": "brittle-client",
            },
            "litellm_config": {
                "provider": "openai",
                "api_base": f"{platform_fakes.urls['openai']}/brittle/v1",
                "default_model": "brittle-1",
                "available_models": ["brittle-1"],
            },
        }
    )
    async with session_scope(app_context(app).factory) as session:
        await upsert_platforms(session, [entry])
    monkeypatch.setattr(app_context(app).settings, "outbound_timeout", TIMEOUT_S)
    return entry


async def break_token_endpoint(app, url: str) -> None:
    async with session_scope(app_context(app).factory) as session:
        row = await session.scalar(
            select(PlatformConfig).where(PlatformConfig.platform_id == PLATFORM)
        )
        row.oauth_config = {**row.oauth_config, "token_endpoint": url}


async def initiate(client, auth, method: str) -> dict:
    response = await client.post(
        "/api/v1/oauth/initiate",
        json={"platform": PLATFORM, "account_name": "brittle", "method": method},
        headers=auth,
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def session_of(client, auth, state: str) -> dict:
    return (await client.get(f"/api/v1/oauth/sessions/{state}", headers=auth)).json()["data"]


FAILURES = ["refused", "stalled", "http_500"]


@pytest.mark.parametrize("failure", FAILURES)
async def test_the_callback_fails_the_session_with_the_reason(
    app, client, brittle, failing_endpoints, failure
):
    auth = await new_user(app)
    started = await initiate(client, auth, "oauth")
    location = follow_as_browser(started["auth_url"])
    await break_token_endpoint(app, failing_endpoints[failure])
    page = await callback(client, location)
    assert page.status_code == 200 and "authorization server" in page.text, page.text
    session = await session_of(client, auth, started["state"])
    assert session["status"] == "failed", session
    assert "authorization server" in session["error"]
    assert session["account"] is None


@pytest.mark.parametrize("failure", FAILURES)
async def test_the_device_poll_fails_the_session_with_the_reason(
    app, client, brittle, failing_endpoints, failure
):
    auth = await new_user(app)
    started = await initiate(client, auth, "device")
    await break_token_endpoint(app, failing_endpoints[failure])
    await poll_now(app, started["state"])
    session = await session_of(client, auth, started["state"])
    assert session["status"] == "failed", session
    assert "authorization server" in session["error"]


@pytest.mark.parametrize("failure", FAILURES)
async def test_renewal_tries_twice_then_says_why_on_the_account(
    app, client, brittle, oauth_server, failing_endpoints, failure
):
    auth = await new_user(app)
    started = await initiate(client, auth, "oauth")
    page = await callback(client, follow_as_browser(started["auth_url"]))
    assert page.status_code == 200, page.text
    account_id = (await session_of(client, auth, started["state"]))["account"]["id"]
    await break_token_endpoint(app, failing_endpoints[failure])
    hits_before = len(failing_endpoints["hits"])

    outcome = await app_context(app).renewer.renew(account_id, revalidate=False)

    assert outcome.outcome == "unreachable" and "authorization server" in outcome.message
    assert "Error" not in outcome.message  # no exception class reaches a person
    if failure == "http_500":
        assert len(failing_endpoints["hits"]) - hits_before == 2  # one retry
    async with app_context(app).factory() as session:
        account = await session.get(OAuthAccount, account_id)
    assert account.is_expired is False  # the refresh token may still be good
    assert account.status_reason.startswith("Renewal failed: The authorization server")


async def test_workers_that_waited_for_a_failed_renewal_report_the_failure(
    app, client, brittle, oauth_server, failing_endpoints
):
    auth = await new_user(app)
    started = await initiate(client, auth, "oauth")
    page = await callback(client, follow_as_browser(started["auth_url"]))
    assert page.status_code == 200, page.text
    account_id = (await session_of(client, auth, started["state"]))["account"]["id"]
    await break_token_endpoint(app, failing_endpoints["http_500"])
    hits_before = len(failing_endpoints["hits"])
    ctx = app_context(app)
    workers = [CredentialRenewer(ctx.settings, ctx.factory, ctx.store, ctx.http) for _ in range(2)]

    outcomes = await asyncio.gather(
        *(worker.renew(account_id, revalidate=False) for worker in workers for _ in range(3))
    )

    assert len(failing_endpoints["hits"]) - hits_before == 2  # one renewal (and its retry)
    assert {o.outcome for o in outcomes} == {"unreachable"}
    assert all(o.message.startswith("The authorization server") for o in outcomes)


async def test_no_session_stays_unfinished_past_its_expiry(app, client, brittle):
    auth = await new_user(app)
    started = await initiate(client, auth, "oauth")
    async with session_scope(app_context(app).factory) as session:
        await session.execute(  # a worker claimed the callback, then died
            update(AuthorizationSession)
            .where(AuthorizationSession.state == started["state"])
            .values(status="completing", expires_at=utcnow() - timedelta(seconds=1))
        )
    assert await BackgroundJobs(app_context(app)).sweep() >= 1
    session = await session_of(client, auth, started["state"])
    assert session["status"] == "expired" and "expired" in session["error"]


async def break_device_endpoint(app, url: str) -> None:
    async with session_scope(app_context(app).factory) as session:
        row = await session.scalar(
            select(PlatformConfig).where(PlatformConfig.platform_id == PLATFORM)
        )
        row.oauth_config = {**row.oauth_config, "device_authorization_endpoint": url}


@pytest.mark.parametrize("failure", [*FAILURES, "nonsense"])
async def test_a_device_start_the_server_cannot_answer_is_a_502(
    app, client, brittle, failing_endpoints, failure
):
    auth = await new_user(app)
    await break_device_endpoint(app, failing_endpoints[failure])
    response = await client.post(
        "/api/v1/oauth/initiate",
        json={"platform": PLATFORM, "account_name": "brittle", "method": "device"},
        headers=auth,
    )
    assert response.status_code == 502, response.text
    body = response.json()
    assert body["error_code"] == "platform_unreachable"
    assert "authorization server" in body["message"] and "Error" not in body["message"]
    assert response.headers["x-request-id"]
