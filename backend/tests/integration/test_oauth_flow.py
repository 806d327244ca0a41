"""OAuth 2.0 binding end to end over real HTTP: code + PKCE, device code, and the token lifecycle.

The platform used here, "acme", exists only as data: it is added through
`scripts/init_oauth_platforms.py --file` with an OpenAI-compatible API (the fake upstream) and
the fake authorization server's endpoints, so every flow proves that configuration suffices.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, text, update

from app.api.deps import app_context
from app.core.database import utcnow
from app.models import AuthorizationSession, OAuthAccount
from app.services.oauth import device_sessions
from app.services.oauth.token_lifecycle import CredentialRenewer
from tests.conftest import BACKEND_DIR, accepts_credential, new_user
from tests.fakes.oauth_server import DEVICE_CODE_GRANT, ClientSpec, FakeOAuthServer
from tests.fakes.server import serve
from tests.helpers.oauth import CALLBACK, callback, follow_as_browser, poll_now


@pytest.fixture(scope="module")
def oauth_server():
    server = FakeOAuthServer(
        clients={"acme-client": ClientSpec(redirect_uris=(CALLBACK,))},
        access_token_ttl_s=60,  # inside the renewal lead time: due for renewal at once
        # The tests move the poller's clock forward instead of sleeping, so the server must not
        # hold fast polls against them; a scripted slow_down still tests the client's back-off.
        device_interval_s=0,
        slow_down_increment_s=0,
    )
    with serve(server.app) as running:
        server.url = running.url
        yield server


@pytest.fixture(scope="module")
async def acme(app, oauth_server, platform_fakes, tmp_path_factory, sqlite_url):
    """Add the "acme" platform as an operator would: a file and the init script (run off the
    event loop: the script writes to the database that a task of the loop may be writing to)."""
    base = oauth_server.url
    config = {
        "platform_id": "acme",
        "platform_name": "Acme AI",
        "description": "OpenAI-compatible platform with a standard OAuth 2.0 server",
        "oauth_config": {
            "login_methods": ["oauth", "device", "api_key"],
            "authorization_endpoint": f"{base}/authorize?auto_approve=1",
            "token_endpoint": f"{base}/token",
            "device_authorization_endpoint": f"{base}/device/code",
            "client_id": "acme-client",
            "scopes": ["models.read", "chat"],
            "use_pkce": True,
        },
        "litellm_config": {
            "provider": "openai",
            "api_base": f"{platform_fakes.urls['openai']}/acme/v1",
            "default_model": "acme-1",
            "available_models": ["acme-1"],
        },
        "quota_config": {"daily_limit": 100000, "rate_limit": 60},
        "is_enabled": True,
    }
    path = tmp_path_factory.mktemp("acme") / "acme.json"
    path.write_text(json.dumps([config]))
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "scripts/init_oauth_platforms.py", "--file", str(path)],
        cwd=BACKEND_DIR, capture_output=True, text=True, check=False,
        env={"DATABASE_URL": sqlite_url, "PATH": "/usr/bin:/bin", "ENVIRONMENT": "test",
             "JWT_SECRET": "x", "CREDENTIAL_KEYS": "k:" + "A" * 43},
    )  # fmt: skip
    assert "added: acme" in result.stdout, result.stderr
    return config


@pytest.fixture(autouse=True)
def _api_accepts_issued_tokens(platform_fakes, oauth_server):
    platform_fakes.openai.keys = lambda c: (
        oauth_server.is_access_token_valid(c) or (accepts_credential(c) and not c.startswith("at-"))
    )


async def start(client, auth, method: str, name: str = "acme account") -> dict:
    response = await client.post(
        "/api/v1/oauth/initiate",
        json={"platform": "acme", "account_name": name, "method": method},
        headers=auth,
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def bind_by_oauth(client, auth) -> tuple[dict, dict]:
    started = await start(client, auth, "oauth")
    page = await callback(client, follow_as_browser(started["auth_url"]))
    assert page.status_code == 200 and "Account bound" in page.text, page.text
    session = (await client.get(f"/api/v1/oauth/sessions/{started['state']}", headers=auth)).json()
    return started, session["data"]


async def test_code_with_pkce_end_to_end(app, client, acme, oauth_server, platform_fakes):
    auth = await new_user(app)
    started = await start(client, auth, "oauth")
    query = parse_qs(urlsplit(started["auth_url"]).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["redirect_uri"] == [CALLBACK] and query["state"] == [started["state"]]
    assert len(started["state"]) >= 22  # ≥ 128 bits of randomness, URL-safe

    pending = await client.get(f"/api/v1/oauth/sessions/{started['state']}", headers=auth)
    assert pending.json()["data"]["status"] == "pending"

    page = await callback(client, follow_as_browser(started["auth_url"]))
    assert page.status_code == 200 and "Account bound" in page.text
    assert "window.opener.postMessage" in page.text

    session = (await client.get(f"/api/v1/oauth/sessions/{started['state']}", headers=auth)).json()
    assert session["data"]["status"] == "completed"
    account = session["data"]["account"]
    assert account["platform_id"] == "acme" and account["auth_method"] == "oauth"
    assert account["expires_at"] is not None
    listed = (await client.get("/api/v1/oauth/accounts", headers=auth)).json()["data"]
    assert [a["id"] for a in listed] == [account["id"]]

    # The token exchange sent the verifier; the platform was asked with the issued token.
    exchange = [r for r in oauth_server.token_requests if r["grant_type"] == "authorization_code"]
    assert exchange[-1]["status"] == 200
    issued = platform_fakes.openai.requests[-1].credential
    assert oauth_server.is_access_token_valid(issued)
    async with app_context(app).engine.connect() as connection:
        row = (
            await connection.execute(
                text("SELECT access_token, refresh_token FROM oauth_accounts WHERE id = :id"),
                {"id": account["id"]},
            )
        ).one()
    assert issued not in row.access_token and row.access_token.startswith("enc:v1:")
    assert row.refresh_token.startswith("enc:v1:")


async def test_a_wrong_pkce_verifier_is_rejected_by_the_server(app, client, acme, oauth_server):
    auth = await new_user(app)
    started = await start(client, auth, "oauth")
    store = app_context(app).store
    state = started["state"]
    async with app_context(app).factory() as session:
        await session.execute(
            update(AuthorizationSession)
            .where(AuthorizationSession.state == state)
            .values(
                secret=store.cipher.encrypt(
                    json.dumps({"code_verifier": "x" * 64}),
                    f"authorization_sessions.secret:{state}",
                )
            )
        )
        await session.commit()
    page = await callback(client, follow_as_browser(started["auth_url"]))
    assert "Authorization failed" in page.text and "invalid_grant" in page.text
    assert oauth_server.token_requests[-1]["error"] == "invalid_grant"
    session = (await client.get(f"/api/v1/oauth/sessions/{state}", headers=auth)).json()["data"]
    assert session["status"] == "failed" and session["account"] is None
    assert (await client.get("/api/v1/oauth/accounts", headers=auth)).json()["data"] == []


async def test_a_replayed_state_is_refused_and_creates_nothing(app, client, acme):
    auth = await new_user(app)
    started = await start(client, auth, "oauth")
    location = follow_as_browser(started["auth_url"])
    assert (await callback(client, location)).status_code == 200
    replay = await callback(client, location)
    assert replay.status_code == 400 and "already used" in replay.text
    assert len((await client.get("/api/v1/oauth/accounts", headers=auth)).json()["data"]) == 1


async def test_an_expired_state_is_refused(app, client, acme):
    auth = await new_user(app)
    started = await start(client, auth, "oauth")
    async with app_context(app).factory() as session:
        await session.execute(
            update(AuthorizationSession)
            .where(AuthorizationSession.state == started["state"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    page = await callback(client, follow_as_browser(started["auth_url"]))
    assert page.status_code == 400 and "expired" in page.text
    status = (await client.get(f"/api/v1/oauth/sessions/{started['state']}", headers=auth)).json()
    assert status["data"]["status"] == "expired"
    assert (await client.get("/api/v1/oauth/accounts", headers=auth)).json()["data"] == []


@pytest.mark.parametrize("state", ["", "unknown-state-0123456789", "x" * 200])
async def test_unknown_or_malformed_states_are_refused(client, acme, state):
    response = await client.get(f"/api/v1/oauth/callback?state={state}&code=abc")
    assert response.status_code in (400, 422)
    assert "Traceback" not in response.text


async def test_a_device_session_state_cannot_complete_an_oauth_callback(app, client, acme):
    auth = await new_user(app)
    device = await start(client, auth, "device")
    response = await client.get(f"/api/v1/oauth/callback?state={device['state']}&code=abc")
    assert response.status_code == 400
    status = (await client.get(f"/api/v1/oauth/sessions/{device['state']}", headers=auth)).json()
    assert status["data"]["status"] == "pending"


async def test_declining_at_the_provider_fails_the_session(app, client, acme):
    auth = await new_user(app)
    started = await start(client, auth, "oauth")
    denied = f"{CALLBACK}?error=access_denied&state={started['state']}"
    page = await callback(client, denied)
    assert "You declined" in page.text
    status = (await client.get(f"/api/v1/oauth/sessions/{started['state']}", headers=auth)).json()
    assert status["data"]["status"] == "failed"


async def test_sessions_are_visible_to_their_owner_only(app, client, acme):
    owner, other = await new_user(app), await new_user(app)
    started = await start(client, owner, "oauth")
    response = await client.get(f"/api/v1/oauth/sessions/{started['state']}", headers=other)
    assert response.status_code == 404


async def _polls_of(app, oauth_server, state: str) -> list[dict]:
    """The token requests that polled this session's device code."""
    async with app_context(app).factory() as session:
        row = await session.get(AuthorizationSession, state)
        sealed = row.secret
    plain = app_context(app).store.cipher.decrypt(sealed, f"authorization_sessions.secret:{state}")
    device_code = json.loads(plain)["device_code"]
    return [r for r in oauth_server.token_requests if r["params"].get("device_code") == device_code]


async def _session(client, auth, state: str) -> dict:
    return (await client.get(f"/api/v1/oauth/sessions/{state}", headers=auth)).json()["data"]


async def test_device_flow_end_to_end_with_slow_down(app, client, acme, oauth_server):
    auth = await new_user(app)
    started = await start(client, auth, "device")
    assert started["user_code"] and started["verification_uri"].endswith("/device")
    assert started["interval"] == 0
    state = started["state"]

    await poll_now(app, state)  # not yet approved
    assert (await _session(client, auth, state))["status"] == "pending"
    polls = await _polls_of(app, oauth_server, state)

    oauth_server.script_device(started["user_code"], "slow_down")
    await poll_now(app, state)
    slowed = await _session(client, auth, state)
    assert slowed["status"] == "pending" and slowed["interval"] == 0 + 5

    polls = await _polls_of(app, oauth_server, state)
    oauth_server.approve_device(started["user_code"])
    await poll_now(app, state)
    done = await _session(client, auth, state)
    assert done["status"] == "completed"
    assert done["account"]["auth_method"] == "device"
    assert [r["error"] for r in polls] == ["authorization_pending", "slow_down"]
    assert all(r["grant_type"] == DEVICE_CODE_GRANT for r in polls)


async def test_the_poller_honours_the_interval(app, client, acme, oauth_server):
    auth = await new_user(app)
    started = await start(client, auth, "device")
    async with app_context(app).factory() as session:
        await session.execute(
            update(AuthorizationSession)
            .where(AuthorizationSession.state == started["state"])
            .values(next_poll_at=utcnow() + timedelta(seconds=30))
        )
        await session.commit()
    await device_sessions.poll_device_sessions(app_context(app))  # not due: no poll
    assert await _polls_of(app, oauth_server, started["state"]) == []
    await poll_now(app, started["state"])  # due: exactly one poll
    assert len(await _polls_of(app, oauth_server, started["state"])) == 1


@pytest.mark.parametrize(
    ("answer", "status", "words"),
    [("expired_token", "expired", "expired"), ("access_denied", "failed", "declined")],
)
async def test_device_flow_endings(app, client, acme, oauth_server, answer, status, words):
    auth = await new_user(app)
    started = await start(client, auth, "device")
    oauth_server.script_device(started["user_code"], answer)
    await poll_now(app, started["state"])
    session = await _session(client, auth, started["state"])
    assert session["status"] == status and words in session["error"]
    assert session["account"] is None


async def test_tokens_are_renewed_ahead_of_expiry_with_rotation(app, client, acme, oauth_server):
    auth = await new_user(app)
    _, session = await bind_by_oauth(client, auth)
    account_id = session["account"]["id"]
    async with app_context(app).factory() as db:
        before = app_context(app).store.load(await db.get(OAuthAccount, account_id))
    renewed = await app_context(app).renewer.renew_due()  # 60 s tokens are inside the lead time
    assert renewed >= 1
    async with app_context(app).factory() as db:
        after = app_context(app).store.load(await db.get(OAuthAccount, account_id))
    assert after.access_token != before.access_token
    assert after.refresh_token != before.refresh_token  # rotated
    assert oauth_server.is_access_token_valid(after.access_token)
    refreshes = [r for r in oauth_server.token_requests if r["grant_type"] == "refresh_token"]
    assert refreshes[-1]["status"] == 200


async def test_invalid_grant_marks_the_account_expired_with_the_reason(
    app, client, acme, oauth_server
):
    auth = await new_user(app)
    _, session = await bind_by_oauth(client, auth)
    account_id = session["account"]["id"]
    oauth_server.revoke_refresh_tokens("acme-client")
    response = await client.post(f"/api/v1/oauth/accounts/{account_id}/refresh", headers=auth)
    data = response.json()["data"]
    assert data["outcome"] == "expired"
    assert data["account"]["status"] == "expired" and data["account"]["is_expired"] is True
    listed = (await client.get("/api/v1/oauth/accounts", headers=auth)).json()["data"][0]
    assert "invalid_grant" in listed["status_reason"]


async def test_two_workers_racing_to_renew_one_account_make_one_refresh(
    app, client, acme, oauth_server
):
    auth = await new_user(app)
    _, session = await bind_by_oauth(client, auth)
    account_id = session["account"]["id"]
    ctx = app_context(app)
    workers = [CredentialRenewer(ctx.settings, ctx.factory, ctx.store, ctx.http) for _ in range(2)]
    before = sum(1 for r in oauth_server.token_requests if r["grant_type"] == "refresh_token")
    outcomes = await asyncio.gather(
        *(worker.renew(account_id, revalidate=False) for worker in workers for _ in range(3))
    )
    after = sum(1 for r in oauth_server.token_requests if r["grant_type"] == "refresh_token")
    assert after - before == 1
    assert {o.outcome for o in outcomes} == {"refreshed"}


async def test_workers_that_waited_for_a_refused_renewal_report_it_expired(
    app, client, acme, oauth_server
):
    auth = await new_user(app)
    _, session = await bind_by_oauth(client, auth)
    account_id = session["account"]["id"]
    oauth_server.revoke_refresh_tokens("acme-client")
    ctx = app_context(app)
    workers = [CredentialRenewer(ctx.settings, ctx.factory, ctx.store, ctx.http) for _ in range(2)]
    before = sum(1 for r in oauth_server.token_requests if r["grant_type"] == "refresh_token")
    outcomes = await asyncio.gather(
        *(worker.renew(account_id, revalidate=False) for worker in workers for _ in range(3))
    )
    after = sum(1 for r in oauth_server.token_requests if r["grant_type"] == "refresh_token")
    assert after - before == 1
    assert {o.outcome for o in outcomes} == {"expired"}
    assert all("invalid_grant" in o.message for o in outcomes)


async def test_the_same_data_only_platform_binds_by_key(app, client, acme, platform_fakes):
    auth = await new_user(app)
    response = await client.post(
        "/api/v1/oauth/initiate",
        json={"platform": "acme", "account_name": "by key", "method": "api_key",
              "credentials": {"api_key": "acme-key-0123456789"}},
        headers=auth,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert platform_fakes.openai.requests[-1].path == "/acme/v1/models"


async def test_oauth_is_refused_where_no_client_is_configured(app, client):
    auth = await new_user(app)
    response = await client.post(
        "/api/v1/oauth/initiate",
        json={"platform": "gemini", "account_name": "g", "method": "oauth"},
        headers=auth,
    )
    assert response.status_code == 400
    assert "api_key" in response.json()["message"]
    async with app_context(app).factory() as session:
        assert (
            await session.scalar(
                select(AuthorizationSession).where(AuthorizationSession.platform_id == "gemini")
            )
        ) is None


# --- the authorization bound to the browser that started it (RFC 6749 §10.12, RFC 9700 §4.7):
# a callback from any other browser — someone who learned a pending `state` and sends their own
# code with it — binds nothing until the session's owner, signed in, confirms.


@pytest.fixture
async def other_browser(app):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def accounts(client, auth) -> list[dict]:
    return (await client.get("/api/v1/oauth/accounts", headers=auth)).json()["data"]


async def test_initiate_sets_an_httponly_samesite_lax_cookie_for_the_callback(app, client, acme):
    auth = await new_user(app)
    response = await client.post(
        "/api/v1/oauth/initiate", headers=auth,
        json={"platform": "acme", "account_name": "a", "method": "oauth"},
    )  # fmt: skip
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "path=/api/v1/oauth/callback" in cookie
    assert response.json()["data"]["state"] not in response.headers["set-cookie"]


async def test_a_code_sent_from_another_browser_binds_nothing_until_the_owner_confirms(
    app, client, acme, other_browser
):
    alice, mallory = await new_user(app), await new_user(app)
    started = await start(client, alice, "oauth")
    # Mallory, who learned alice's pending state, brings a code back in her own browser.
    page = await callback(other_browser, follow_as_browser(started["auth_url"]))
    assert page.status_code == 200 and "Confirm the authorization" in page.text
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    assert await accounts(client, alice) == []
    held = await client.get(f"/api/v1/oauth/sessions/{started['state']}", headers=alice)
    assert held.json()["data"]["status"] == "needs_user_action"
    assert held.json()["data"]["reason"] == "confirm"
    # Nobody but alice can confirm, and the state cannot be used again meanwhile.
    refused = await other_browser.post(
        f"/api/v1/oauth/sessions/{started['state']}/confirm", headers=mallory
    )
    assert refused.status_code == 400 and refused.json()["error_code"] == "invalid_state"
    replay = await callback(client, follow_as_browser(started["auth_url"]))
    assert replay.status_code == 400
    assert await accounts(client, alice) == []
    # Alice confirms (an authorization she started from the API alone, say): bound.
    confirmed = await client.post(
        f"/api/v1/oauth/sessions/{started['state']}/confirm", headers=alice
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["data"]["status"] == "completed"
    assert len(await accounts(client, alice)) == 1


async def test_a_session_waiting_for_confirmation_expires_unbound(app, client, acme, other_browser):
    alice = await new_user(app)
    started = await start(client, alice, "oauth")
    await callback(other_browser, follow_as_browser(started["auth_url"]))
    async with app_context(app).factory() as session:
        await session.execute(
            update(AuthorizationSession)
            .where(AuthorizationSession.state == started["state"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    late = await client.post(f"/api/v1/oauth/sessions/{started['state']}/confirm", headers=alice)
    assert late.status_code == 400
    assert await accounts(client, alice) == []
