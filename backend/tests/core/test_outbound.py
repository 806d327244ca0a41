"""Outbound requests refuse private, loopback and link-local addresses, judged on the resolved
address, unless OUTBOUND_ALLOW_PRIVATE: key checks, model calls (litellm's and the lean path's),
token requests, JWKS and the alert webhook. Everything the tests talk to is on 127.0.0.1, so
each of these is refused once the service no longer allows private addresses."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.core.config import Settings
from app.core.outbound import AddressRefused, GuardedResolver, OutboundGuard, is_public
from app.core.security import InvalidToken, TokenService
from app.main import create_app
from app.services.alerts import webhook
from app.services.oauth import oauth2_client
from tests.conftest import make_settings, new_user
from tests.fakes.server import serve
from tests.fakes.webhook import WebhookReceiver
from tests.helpers.api import account
from tests.helpers.calls import said


@pytest.mark.parametrize(
    ("address", "public"),
    [("8.8.8.8", True), ("2606:4700:4700::1111", True), ("127.0.0.1", False), ("10.1.2.3", False),
     ("192.168.0.1", False), ("169.254.169.254", False), ("::1", False), ("fe80::1%eth0", False),
     ("::ffff:127.0.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False), ("fd00::1", False)],  # noqa: S104
)  # fmt: skip
def test_which_addresses_are_public(address, public):
    assert is_public(address) is public


async def test_a_name_is_judged_by_the_address_it_resolves_to():
    guard = OutboundGuard(allow_private=False)
    with pytest.raises(AddressRefused):
        await guard.check_url("http://localhost:8080/v1")  # a harmless name, a loopback address
    with pytest.raises(AddressRefused):
        await guard.check_url("http://169.254.169.254/latest/meta-data/")
    await OutboundGuard(allow_private=True).check_url("http://localhost:8080/v1")
    with pytest.raises(OSError, match="does not call"):
        await GuardedResolver().resolve("localhost", 443)


@pytest.fixture
async def refusing(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The service on the shared database (platforms on the 127.0.0.1 fakes), refusing private
    addresses as it does in production."""
    served = create_app(make_settings(sqlite_url, background_jobs=False,
                                      outbound_allow_private=False))  # fmt: skip
    async with served.router.lifespan_context(served):
        transport = httpx.ASGITransport(app=served)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client


async def test_a_key_check_at_a_private_address_is_refused(app, refusing, platform_fakes):
    auth = await new_user(app)
    before = len(platform_fakes.openai.model_requests)
    answer = await refusing.post(
        "/api/v1/oauth/initiate", headers=auth,
        json={"platform": "qwen", "account_name": "q", "method": "api_key",
              "credentials": {"api_key": f"sk-{uuid.uuid4().hex}"}},
    )  # fmt: skip
    assert answer.status_code == 502, answer.text
    assert answer.json()["error_code"] == "address_refused"
    assert len(platform_fakes.openai.model_requests) == before


@pytest.mark.parametrize(
    ("platform", "fake"), [("openai", "openai"), ("claude", "anthropic"), ("gemini", "gemini")]
)  # lean path, and litellm's two wires
async def test_model_calls_to_a_private_address_are_refused(
    app, client, refusing, platform_fakes, platform, fake
):
    auth = await new_user(app)
    await account(client, auth, platform)  # bound while private addresses were allowed
    upstream = getattr(platform_fakes, fake)
    before = len(upstream.model_requests)
    body = {"platform": platform, "messages": said()}
    answer = await refusing.post("/api/v1/oauth/chat/completions", json=body, headers=auth)
    assert answer.status_code == 502, answer.text
    assert answer.json()["error_code"] == "address_refused"
    streamed = await refusing.post(
        "/v1/chat/completions", headers=auth,
        json={"model": f"{platform}/x", "messages": said(), "stream": True},
    )  # fmt: skip
    assert streamed.status_code == 502
    assert len(upstream.model_requests) == before


async def test_the_lean_paths_connections_never_reach_a_private_address():
    import aiohttp

    from app.services.calls import passthrough

    async with passthrough.pool(OutboundGuard(allow_private=False).resolver()) as http:
        with pytest.raises(aiohttp.ClientConnectorError):
            await http.get("http://localhost:9/")


async def test_a_token_request_to_a_private_address_is_refused():
    config = oauth2_client.OAuthClientConfig(
        client_id="c", token_endpoint="http://127.0.0.1:9/token",
        outbound=OutboundGuard(allow_private=False),
    )  # fmt: skip
    with pytest.raises(AddressRefused):
        await oauth2_client.refresh(config, "a-refresh-token")


async def test_a_jwks_url_at_a_private_address_is_not_fetched():
    key = ec.generate_private_key(ec.SECP256R1())
    fetched: list[int] = []

    async def jwks(_request: Any) -> JSONResponse:
        fetched.append(1)
        return JSONResponse({"keys": []})

    with serve(Starlette(routes=[Route("/jwks.json", jwks)])) as server:
        settings = Settings(jwt_algorithm="ES256", jwt_jwks_url=f"{server.url}/jwks.json",
                            outbound_allow_private=False)  # fmt: skip
        token = jwt.encode({"sub": "x", "exp": int(time.time()) + 60}, key, algorithm="ES256",
                           headers={"kid": "k"})  # fmt: skip
        with pytest.raises(InvalidToken, match="private"):
            await TokenService(settings).verify(token)
    assert fetched == []


async def test_the_alert_webhook_at_a_private_address_is_not_called(refusing):
    from app.api.deps import app_context

    hook = WebhookReceiver()
    with serve(hook.app) as server:
        ctx = app_context(refusing._transport.app)  # type: ignore[attr-defined]
        posted = await webhook._post(ctx.http, hook.url(server.url), {"event": "alert.raised"})
    assert posted is False
    assert hook.attempts == 0
