"""Prove the fake authorization server is standards-compliant by driving it with Authlib.

Authlib is a maintained OAuth client written against the RFCs: if it interoperates with the
fake, and the fake refuses what the RFCs forbid, then the proxy's tests against the fake mean
something about real vendors.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.oauth_server import DEVICE_CODE_GRANT, ClientSpec, FakeOAuthServer
from tests.fakes.server import serve

PUBLIC = "public-app"
CONFIDENTIAL = "confidential-app"
DEVICE = "device-app"
# Unreserved characters only: Authlib does not form-urlencode Basic credentials (RFC 6749
# §2.3.1 says to), so a secret with "+" or "%" would not survive the round trip.
SECRET = "s3cret-Value_123"
NOWHERE = "http://127.0.0.1:9/callback"  # registered but never contacted
# httpx builds a TLS context per client by default (~0.1 s each); share one to stay fast.
TLS = ssl.create_default_context()


def http_client(**kwargs: Any) -> httpx.AsyncClient:
    """A plain HTTP client playing the user's browser (or any non-OAuth caller)."""
    return httpx.AsyncClient(verify=TLS, **kwargs)


@dataclass
class Env:
    server: FakeOAuthServer
    base: str
    callback: str


async def _echo_callback(request: Request) -> Response:
    """The client's redirect URI: shows what the authorization server sent back."""
    return JSONResponse(dict(request.query_params))


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    server = FakeOAuthServer(device_interval_s=1, slow_down_increment_s=0)
    client_site = Starlette(routes=[Route("/callback", _echo_callback)])
    with serve(client_site) as client, serve(server.app) as auth:
        callback = f"{client.url}/callback"
        scopes = ("openid", "profile", "chat")
        server.register_client(PUBLIC, ClientSpec(redirect_uris=(callback,), scopes=scopes))
        server.register_client(
            CONFIDENTIAL, ClientSpec(redirect_uris=(callback, NOWHERE), client_secret=SECRET)
        )
        server.register_client(DEVICE, ClientSpec(scopes=("chat",)))
        yield Env(server, auth.url, callback)


def oauth_client(env: Env, client_id: str = PUBLIC, **kwargs: Any) -> AsyncOAuth2Client:
    """An Authlib client doing PKCE S256, configured the way the proxy's data would be."""
    return AsyncOAuth2Client(
        client_id=client_id,
        redirect_uri=env.callback,
        code_challenge_method="S256",
        token_endpoint=f"{env.base}/token",
        verify=TLS,
        **kwargs,
    )


async def authorize(env: Env, client: AsyncOAuth2Client, verifier: str, **params: str) -> str:
    """Play the user's browser; the `?auto_approve=1` endpoint query stands in for consent."""
    url, state = client.create_authorization_url(
        f"{env.base}/authorize?auto_approve=1", code_verifier=verifier, **params
    )
    client.state = state  # Authlib checks it against the callback in fetch_token
    async with http_client(follow_redirects=True) as browser:
        response = await browser.get(url)
    assert response.status_code == 200
    assert str(response.url).startswith(env.callback)
    return str(response.url)


async def login(env: Env, client: AsyncOAuth2Client, **params: str) -> dict[str, Any]:
    verifier = generate_token(64)
    callback_url = await authorize(env, client, verifier, **params)
    return await client.fetch_token(authorization_response=callback_url, code_verifier=verifier)


async def expect_error(call: Awaitable[Any], error: str) -> None:
    with pytest.raises(OAuthError) as info:
        await call
    assert info.value.error == error


def redirect_params(response: httpx.Response, env: Env) -> dict[str, str]:
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(env.callback)
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def count_grants(env: Env, grant_type: str) -> int:
    return sum(record["grant_type"] == grant_type for record in env.server.token_requests)


# ------------------------------------------------------------------ discovery


async def test_metadata_document(env: Env) -> None:
    async with http_client() as http:
        response = await http.get(f"{env.base}/.well-known/oauth-authorization-server")
    document = response.json()
    assert document == env.server.metadata(env.base)
    assert document["issuer"] == env.base
    assert document["token_endpoint"] == f"{env.base}/token"
    assert document["device_authorization_endpoint"] == f"{env.base}/device/code"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert DEVICE_CODE_GRANT in document["grant_types_supported"]


# ------------------------------------------------------------------ authorization code + PKCE


async def test_code_with_pkce_end_to_end(env: Env) -> None:
    async with oauth_client(env, scope="openid chat") as client:
        token = await login(env, client, login_hint="alice@example.test")
        assert token["token_type"] == "Bearer"
        assert token["scope"] == "openid chat"
        assert token["expires_in"] == 3600
        assert token["refresh_token"]
        assert env.server.is_access_token_valid(token["access_token"])
        me = await client.get(f"{env.base}/userinfo")
    assert me.json() == {"sub": "alice@example.test", "client_id": PUBLIC, "scope": "openid chat"}
    sent = env.server.authorization_requests[-1]
    assert sent["code_challenge_method"] == "S256"
    assert len(sent["code_challenge"]) == 43
    record = env.server.token_requests[-1]
    assert record["grant_type"] == "authorization_code"
    assert record["auth_method"] == "none"
    assert record["status"] == 200


async def test_wrong_code_verifier_is_invalid_grant(env: Env) -> None:
    async with oauth_client(env) as client:
        callback_url = await authorize(env, client, generate_token(64))
        await expect_error(
            client.fetch_token(authorization_response=callback_url, code_verifier="x" * 64),
            "invalid_grant",
        )


async def test_missing_code_verifier_is_invalid_request(env: Env) -> None:
    async with oauth_client(env) as client:
        callback_url = await authorize(env, client, generate_token(64))
        await expect_error(
            client.fetch_token(authorization_response=callback_url), "invalid_request"
        )


async def test_code_reuse_is_refused_and_revokes_its_tokens(env: Env) -> None:
    async with oauth_client(env) as client:
        verifier = generate_token(64)
        callback_url = await authorize(env, client, verifier)
        token = await client.fetch_token(
            authorization_response=callback_url, code_verifier=verifier
        )
        await expect_error(
            client.fetch_token(authorization_response=callback_url, code_verifier=verifier),
            "invalid_grant",
        )
        assert not env.server.is_access_token_valid(token["access_token"])
        await expect_error(
            client.refresh_token(refresh_token=token["refresh_token"]), "invalid_grant"
        )


async def test_redirect_uri_must_match_at_the_token_endpoint(env: Env) -> None:
    async with oauth_client(env) as client:
        verifier = generate_token(64)
        callback_url = await authorize(env, client, verifier)
        await expect_error(
            client.fetch_token(
                authorization_response=callback_url,
                code_verifier=verifier,
                redirect_uri=f"{env.callback}/elsewhere",
            ),
            "invalid_grant",
        )


async def test_authorize_never_redirects_to_an_unverified_uri(env: Env) -> None:
    base = {"response_type": "code", "state": "xyz", "code_challenge_method": "S256"}
    base["code_challenge"] = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    async with http_client() as browser:
        mismatch = {**base, "client_id": PUBLIC, "redirect_uri": "http://evil.example/cb"}
        response = await browser.get(f"{env.base}/authorize", params=mismatch)
        assert response.status_code == 400
        assert "location" not in response.headers
        assert "redirect_uri_mismatch" in response.text
        unknown = {**base, "client_id": "nobody", "redirect_uri": env.callback}
        response = await browser.get(f"{env.base}/authorize", params=unknown)
        assert response.status_code == 400
        assert "invalid_client" in response.text


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),
        ({"scope": "openid admin"}, "invalid_scope"),
    ],
)
async def test_authorize_errors_redirect_with_state(
    env: Env, change: dict[str, str | None], error: str
) -> None:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": PUBLIC,
        "redirect_uri": env.callback,
        "state": "xyz",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        **change,
    }
    query = {key: value for key, value in params.items() if value is not None}
    async with http_client() as browser:
        response = await browser.get(f"{env.base}/authorize", params=query)
    sent_back = redirect_params(response, env)
    assert sent_back["error"] == error
    assert sent_back["state"] == "xyz"
    assert "code" not in sent_back


async def test_consent_page_approve_and_deny(env: Env) -> None:
    verifier = generate_token(64)
    async with oauth_client(env) as client, http_client() as browser:
        url, state = client.create_authorization_url(
            f"{env.base}/authorize", code_verifier=verifier
        )
        page = await browser.get(url)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert '<button name="decision" value="approve">Approve</button>' in page.text
        assert '<button name="decision" value="deny">Deny</button>' in page.text
        request_id = re.search(r'name="request_id" value="([^"]+)"', page.text)
        assert request_id is not None
        form = {"request_id": request_id.group(1), "decision": "approve"}
        decision = await browser.post(f"{env.base}/authorize/decision", data=form)
        sent_back = redirect_params(decision, env)
        assert sent_back["state"] == state
        token = await client.fetch_token(
            authorization_response=decision.headers["location"], code_verifier=verifier
        )
        assert env.server.is_access_token_valid(token["access_token"])
        replay = await browser.post(f"{env.base}/authorize/decision", data=form)
        assert replay.status_code == 400

        url, state = client.create_authorization_url(
            f"{env.base}/authorize", code_verifier=verifier
        )
        page = await browser.get(url)
        request_id = re.search(r'name="request_id" value="([^"]+)"', page.text)
        assert request_id is not None
        form = {"request_id": request_id.group(1), "decision": "deny"}
        decision = await browser.post(f"{env.base}/authorize/decision", data=form)
        assert redirect_params(decision, env) == {
            "error": "access_denied",
            "error_description": "the user denied the request",
            "state": state,
        }


# ------------------------------------------------------------------ refresh, revocation, expiry


async def test_refresh_rotation(env: Env) -> None:
    async with oauth_client(env) as client:
        first = await login(env, client)
        before = count_grants(env, "refresh_token")
        second = await client.refresh_token()
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]
        assert env.server.is_access_token_valid(second["access_token"])
        await expect_error(
            client.refresh_token(refresh_token=first["refresh_token"]), "invalid_grant"
        )
        # Plain reuse is refused but, by default, leaves the live token family alone.
        third = await client.refresh_token()
        assert env.server.is_access_token_valid(third["access_token"])
    assert count_grants(env, "refresh_token") - before == 3


async def test_refresh_may_narrow_but_not_widen_scope(env: Env) -> None:
    async with oauth_client(env, scope="openid chat") as client:
        await login(env, client)
        narrowed = await client.refresh_token(scope="chat")
        assert narrowed["scope"] == "chat"
        await expect_error(client.refresh_token(scope="openid profile chat"), "invalid_scope")


async def test_refresh_without_rotation_keeps_the_refresh_token(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(env.server, "refresh_rotation", False)
    async with oauth_client(env) as client:
        first = await login(env, client)
        second = await client.refresh_token()
        assert second["refresh_token"] == first["refresh_token"]  # Authlib keeps the old one
        await client.refresh_token()


async def test_refresh_reuse_detection_revokes_the_family(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(env.server, "revoke_on_refresh_reuse", True)
    async with oauth_client(env) as client:
        first = await login(env, client)
        second = await client.refresh_token()
        await expect_error(
            client.refresh_token(refresh_token=first["refresh_token"]), "invalid_grant"
        )
        assert not env.server.is_access_token_valid(second["access_token"])
        await expect_error(client.refresh_token(), "invalid_grant")


async def test_revoke_refresh_tokens_helper(env: Env) -> None:
    async with (
        oauth_client(env) as public,
        oauth_client(env, CONFIDENTIAL, client_secret=SECRET) as confidential,
    ):
        await login(env, public)
        await login(env, confidential)
        env.server.revoke_refresh_tokens(PUBLIC)
        await expect_error(public.refresh_token(), "invalid_grant")
        await confidential.refresh_token()  # other clients are untouched


async def test_expired_access_token_gets_bearer_challenge(env: Env) -> None:
    async with oauth_client(env) as client, http_client() as anonymous:
        token = await login(env, client)
        env.server.expire_access_tokens()
        assert not env.server.is_access_token_valid(token["access_token"])
        response = await client.get(f"{env.base}/userinfo")
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
        await client.refresh_token()
        assert (await client.get(f"{env.base}/userinfo")).status_code == 200
        bare = await anonymous.get(f"{env.base}/userinfo")
        assert bare.status_code == 401
        assert bare.headers["www-authenticate"] == 'Bearer realm="fake-oauth"'


async def test_rfc7009_revocation(env: Env) -> None:
    async with oauth_client(env) as client:
        token = await login(env, client)
        response = await client.revoke_token(
            f"{env.base}/revoke", token=token["refresh_token"], token_type_hint="refresh_token"
        )
        assert response.status_code == 200
        assert not env.server.is_access_token_valid(token["access_token"])
        await expect_error(client.refresh_token(), "invalid_grant")


async def test_codes_and_tokens_expire() -> None:
    server = FakeOAuthServer(code_ttl_s=0, access_token_ttl_s=0, device_code_ttl_s=0)
    server.register_client(PUBLIC, ClientSpec(redirect_uris=(NOWHERE,)))
    with serve(server.app) as site:
        async with AsyncOAuth2Client(
            client_id=PUBLIC, redirect_uri=NOWHERE, code_challenge_method="S256", verify=TLS
        ) as client:
            verifier = generate_token(64)
            url, _ = client.create_authorization_url(
                f"{site.url}/authorize", code_verifier=verifier, auto_approve="1"
            )
            async with http_client() as browser:
                response = await browser.get(url)
            await expect_error(
                client.fetch_token(
                    f"{site.url}/token",
                    authorization_response=response.headers["location"],
                    code_verifier=verifier,
                ),
                "invalid_grant",
            )
            device = await client.post(
                f"{site.url}/device/code", auth=client.client_auth("none"), data={"scope": "chat"}
            )
            await expect_error(
                client.fetch_token(
                    f"{site.url}/token",
                    grant_type=DEVICE_CODE_GRANT,
                    device_code=device.json()["device_code"],
                ),
                "expired_token",
            )


# ------------------------------------------------------------------ client authentication


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_confidential_client_authentication(env: Env, method: str) -> None:
    async with oauth_client(
        env, CONFIDENTIAL, client_secret=SECRET, token_endpoint_auth_method=method
    ) as client:
        await login(env, client)
        await client.refresh_token()
    records = env.server.token_requests[-2:]
    assert [record["grant_type"] for record in records] == ["authorization_code", "refresh_token"]
    assert all(record["auth_method"] == method for record in records)
    assert all("client_secret" not in record["params"] for record in records)


@pytest.mark.parametrize("secret", ["wrong", None])
async def test_confidential_client_must_authenticate(env: Env, secret: str | None) -> None:
    async with oauth_client(env, CONFIDENTIAL, client_secret=secret) as client:
        verifier = generate_token(64)
        callback_url = await authorize(env, client, verifier)
        await expect_error(
            client.fetch_token(authorization_response=callback_url, code_verifier=verifier),
            "invalid_client",
        )
    assert env.server.token_requests[-1]["status"] == 401


async def test_token_endpoint_rejects_malformed_requests(env: Env) -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"json": {"grant_type": "refresh_token", "client_id": PUBLIC}}, 400, "invalid_request"),
        (
            {"content": "grant_type=a&grant_type=b&client_id=public-app", "headers": form},
            400,
            "invalid_request",
        ),
        ({"data": {"client_id": PUBLIC}}, 400, "invalid_request"),
        ({"data": {"client_id": PUBLIC, "grant_type": "password"}}, 400, "unsupported_grant_type"),
        ({"data": {"grant_type": "refresh_token"}}, 401, "invalid_client"),
        ({"data": {"grant_type": "refresh_token", "client_id": "nobody"}}, 401, "invalid_client"),
        ({"data": {"grant_type": "refresh_token", "client_id": PUBLIC}}, 400, "invalid_request"),
        (
            {"data": {"grant_type": "refresh_token", "client_id": PUBLIC, "refresh_token": "x"}},
            400,
            "invalid_grant",
        ),
    ]
    async with http_client() as http:
        for request, status, error in cases:
            response = await http.post(f"{env.base}/token", **request)
            assert (response.status_code, response.json()["error"]) == (status, error), request
            assert response.json()["error_description"]
            assert response.headers["cache-control"] == "no-store"
            if status == 401:
                assert response.headers["www-authenticate"].startswith("Basic")


# ------------------------------------------------------------------ device authorization grant


def device_client(env: Env) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(client_id=DEVICE, token_endpoint=f"{env.base}/token", verify=TLS)


async def start_device(env: Env, client: AsyncOAuth2Client) -> dict[str, Any]:
    """Authlib has no device-authorization call; its client auth still applies to a POST."""
    response = await client.post(
        f"{env.base}/device/code",
        data={"scope": "chat"},
        auth=client.client_auth(client.token_endpoint_auth_method),
    )
    assert response.status_code == 200
    return response.json()


async def poll(client: AsyncOAuth2Client, grant: dict[str, Any]) -> dict[str, Any]:
    return await client.fetch_token(grant_type=DEVICE_CODE_GRANT, device_code=grant["device_code"])


async def test_device_flow_pending_slow_down_then_token(env: Env) -> None:
    async with device_client(env) as client:
        grant = await start_device(env, client)
        assert re.fullmatch(r"[B-Z]{4}-[B-Z]{4}", grant["user_code"])
        assert grant["verification_uri"] == f"{env.base}/device"
        assert grant["verification_uri_complete"].endswith(f"user_code={grant['user_code']}")
        assert (grant["interval"], grant["expires_in"]) == (1, 600)
        await expect_error(poll(client, grant), "authorization_pending")
        await expect_error(poll(client, grant), "slow_down")  # polled faster than interval
        env.server.approve_device(grant["user_code"])
        await asyncio.sleep(grant["interval"] + 0.1)
        token = await poll(client, grant)
        assert token["scope"] == "chat"
        assert token["refresh_token"]
        assert env.server.is_access_token_valid(token["access_token"])
        await expect_error(poll(client, grant), "invalid_grant")  # device codes are single-use
        await client.refresh_token()


async def test_device_flow_access_denied(env: Env) -> None:
    async with device_client(env) as client:
        grant = await start_device(env, client)
        env.server.approve_device(grant["user_code"], approve=False)
        await expect_error(poll(client, grant), "access_denied")


async def test_device_flow_scripted_responses(env: Env) -> None:
    async with device_client(env) as client:
        grant = await start_device(env, client)
        env.server.script_device(grant["device_code"], "slow_down", "expired_token")
        env.server.approve_device(grant["user_code"].lower().replace("-", ""))
        await expect_error(poll(client, grant), "slow_down")
        await expect_error(poll(client, grant), "expired_token")
        await asyncio.sleep(grant["interval"] + 0.1)
        assert (await poll(client, grant))["access_token"]


async def test_device_verification_page(env: Env) -> None:
    async with device_client(env) as client, http_client() as browser:
        grant = await start_device(env, client)
        page = await browser.get(grant["verification_uri_complete"])
        assert page.status_code == 200
        assert f'value="{grant["user_code"]}"' in page.text
        assert '<button name="decision" value="approve">Approve</button>' in page.text
        wrong = await browser.post(
            grant["verification_uri"], data={"user_code": "BBBB-BBBB", "decision": "approve"}
        )
        assert wrong.status_code == 400
        typed = grant["user_code"].lower().replace("-", " ")
        done = await browser.post(
            grant["verification_uri"], data={"user_code": typed, "decision": "approve"}
        )
        assert done.status_code == 200
        assert "Device connected" in done.text
        assert (await poll(client, grant))["access_token"]
