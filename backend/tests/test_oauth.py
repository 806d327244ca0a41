"""The seed's /api/v1/oauth routes: platforms, binding by key, and the account lifecycle."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from app.api.deps import app_context
from app.core.database import session_scope
from app.schemas.platform import PlatformConfigIn
from app.services.platforms import upsert_platforms
from tests.conftest import BACKEND_DIR, new_user
from tests.helpers.api import bind

SEED_PLATFORMS = ["qwen", "openai", "claude", "baidu", "zhipu", "spark", "gemini", "doubao"]


async def test_platforms_answers_the_seeds_shape_with_eight_platforms(client, auth):
    response = await client.get("/api/v1/oauth/platforms", headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == 200 and body["message"] == "success"
    by_id = {p["platform_id"]: p for p in body["data"]}
    # Other tests may add platforms of their own to the shared database.
    assert [p for p in by_id if p in SEED_PLATFORMS] == SEED_PLATFORMS
    qwen = by_id["qwen"]
    assert qwen["platform_name"] == "通义千问"
    assert qwen["is_enabled"] is True
    assert {"qwen-turbo", "qwen-plus", "qwen-max"} <= set(qwen["available_models"])
    assert qwen["embedding_models"] == ["text-embedding-v4"]
    assert {"platform_id", "platform_name", "description", "is_enabled", "available_models"} <= set(
        qwen
    )


async def test_gemini_offers_oauth_only_once_an_operator_client_is_configured(client, auth):
    response = await client.get("/api/v1/oauth/platforms", headers=auth)
    gemini = next(p for p in response.json()["data"] if p["platform_id"] == "gemini")
    assert "oauth" not in gemini["login_methods"]
    assert "api_key" in gemini["login_methods"]


def platform_entry(platform_id: str, oauth_config: dict[str, Any]) -> PlatformConfigIn:
    return PlatformConfigIn.model_validate(
        {
            "platform_id": platform_id,
            "platform_name": f"Platform {platform_id}",
            "oauth_config": oauth_config,
            "litellm_config": {"provider": "openai", "api_base": "http://127.0.0.1:9/v1",
                               "default_model": "m-1", "available_models": ["m-1"]},
        }
    )  # fmt: skip


@pytest.mark.parametrize("method", ["oauth", "device"])
async def test_a_method_on_the_operators_client_is_offered_only_once_the_client_is_set(
    app, client, auth, method
):
    """Offered without its client, it only ever answered 400 unsupported_method."""
    endpoints = {
        "token_endpoint": "http://127.0.0.1:9/token",
        "authorization_endpoint": "http://127.0.0.1:9/authorize",
        "device_authorization_endpoint": "http://127.0.0.1:9/device/code",
    }
    unset, configured = f"noclient-{uuid.uuid4().hex[:8]}", f"client-{uuid.uuid4().hex[:8]}"
    async with session_scope(app_context(app).factory) as session:
        for platform_id, operator in ((unset, {}), (configured, {"client_id": "op-client"})):
            oauth = {"login_methods": [method, "api_key"], **endpoints, **operator}
            await upsert_platforms(session, [platform_entry(platform_id, oauth)])
    listed = (await client.get("/api/v1/oauth/platforms", headers=auth)).json()["data"]
    methods = {p["platform_id"]: p["login_methods"] for p in listed}
    assert methods[unset] == ["api_key"] and methods[configured] == [method, "api_key"]
    body = {"platform": unset, "account_name": "a", "method": method}
    refused = await client.post("/api/v1/oauth/initiate", json=body, headers=auth)
    assert refused.status_code == 400 and refused.json()["error_code"] == "unsupported_method"


async def test_every_oauth_route_requires_a_bearer_token(client):
    for method, path in [
        ("GET", "/api/v1/oauth/platforms"),
        ("POST", "/api/v1/oauth/initiate"),
        ("GET", "/api/v1/oauth/accounts"),
        ("POST", "/api/v1/oauth/accounts/1/refresh"),
        ("PUT", "/api/v1/oauth/accounts/1/toggle"),
        ("DELETE", "/api/v1/oauth/accounts/1"),
    ]:
        response = await client.request(method, path)
        assert response.status_code == 401, (method, path)
        body = response.json()
        assert body == {
            "code": 401,
            "message": body["message"],
            "data": None,
            "error_code": "unauthorized",
        }
        assert "Bearer" in response.json()["message"]


async def test_a_forged_token_is_refused(client):
    headers = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"}
    response = await client.get("/api/v1/oauth/accounts", headers=headers)
    assert response.status_code == 401
    assert "sign in again" in response.json()["message"]


async def test_binding_by_key_creates_the_account_at_once(client, auth):
    account = await bind(client, auth)
    assert account["platform_id"] == "qwen"
    assert account["platform_name"] == "通义千问"
    assert account["account_name"] == "我的通义千问账号"
    assert account["status"] == "active"
    assert account["credential_hint"] == "sk-…cdef"
    assert account["quota_used"] == 0
    assert account["quota_limit"] == 1000000
    listed = (await client.get("/api/v1/oauth/accounts", headers=auth)).json()["data"]
    assert [a["id"] for a in listed] == [account["id"]]
    expected = {
        "id", "platform_id", "platform_name", "account_name", "quota_used", "quota_limit",
        "is_active", "is_expired", "last_used_at", "created_at", "updated_at", "status",
    }  # fmt: skip
    assert expected <= set(listed[0])


async def test_no_response_contains_the_key(client, auth):
    key = "sk-secret-abcdefghijklmnop"
    account = await bind(client, auth, credentials={"api_key": key})
    responses = [
        await client.get("/api/v1/oauth/accounts", headers=auth),
        await client.post(f"/api/v1/oauth/accounts/{account['id']}/refresh", headers=auth),
        await client.put(f"/api/v1/oauth/accounts/{account['id']}/toggle", headers=auth),
    ]
    for response in responses:
        assert response.status_code == 200
        assert key not in response.text
        assert "abcdefghijkl" not in response.text


async def test_toggle_disables_then_enables(client, auth):
    account = await bind(client, auth)
    url = f"/api/v1/oauth/accounts/{account['id']}/toggle"
    disabled = (await client.put(url, headers=auth)).json()["data"]
    assert disabled["is_active"] is False and disabled["status"] == "disabled"
    enabled = (await client.put(url, headers=auth)).json()["data"]
    assert enabled["is_active"] is True and enabled["status"] == "active"


async def test_refresh_rechecks_a_key_with_the_platform(client, auth, platform_fakes):
    account = await bind(client, auth)
    platform_fakes.openai.requests.clear()
    response = await client.post(f"/api/v1/oauth/accounts/{account['id']}/refresh", headers=auth)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["outcome"] == "valid"
    assert data["account"]["status"] == "active"
    assert [r.path for r in platform_fakes.openai.requests] == ["/compatible-mode/v1/models"]


async def test_delete_removes_the_account(client, auth):
    account = await bind(client, auth)
    response = await client.delete(f"/api/v1/oauth/accounts/{account['id']}", headers=auth)
    assert response.json() == {
        "code": 200,
        "message": "success",
        "data": {"id": account["id"], "deleted": True},
    }
    assert (await client.get("/api/v1/oauth/accounts", headers=auth)).json()["data"] == []
    again = await client.delete(f"/api/v1/oauth/accounts/{account['id']}", headers=auth)
    assert again.status_code == 404


async def test_a_user_never_sees_or_touches_another_users_account(app, client):
    alice, bob = await new_user(app), await new_user(app)
    alices = await bind(client, alice, account_name="alice's")
    bobs = await bind(client, bob, account_name="bob's")
    assert [
        a["id"] for a in (await client.get("/api/v1/oauth/accounts", headers=alice)).json()["data"]
    ] == [alices["id"]]
    assert [
        a["id"] for a in (await client.get("/api/v1/oauth/accounts", headers=bob)).json()["data"]
    ] == [bobs["id"]]
    missing = 10**12
    for account_id in (alices["id"], missing):
        for method, path in [
            ("POST", f"/api/v1/oauth/accounts/{account_id}/refresh"),
            ("PUT", f"/api/v1/oauth/accounts/{account_id}/toggle"),
            ("DELETE", f"/api/v1/oauth/accounts/{account_id}"),
        ]:
            response = await client.request(method, path, headers=bob)
            assert response.status_code == 404, (method, path)
            assert response.json()["message"] == f"Account {account_id} not found."
    # Bob's attempts changed nothing of Alice's.
    still = (await client.get("/api/v1/oauth/accounts", headers=alice)).json()["data"]
    assert still[0]["is_active"] is True


async def test_unknown_platform_is_a_404_naming_it(client, auth):
    response = await client.post(
        "/api/v1/oauth/initiate",
        json={"platform": "nope", "account_name": "x", "credentials": {"api_key": "k"}},
        headers=auth,
    )
    assert response.status_code == 404
    assert "nope" in response.json()["message"]


async def test_unknown_method_lists_the_supported_ones(client, auth):
    response = await client.post(
        "/api/v1/oauth/initiate",
        json={"platform": "qwen", "account_name": "x", "method": "telepathy"},
        headers=auth,
    )
    assert response.status_code == 400
    message = response.json()["message"]
    assert "telepathy" in message and "api_key" in message


async def test_api_key_method_without_a_key_is_refused(client, auth):
    response = await client.post(
        "/api/v1/oauth/initiate",
        json={"platform": "qwen", "account_name": "x", "method": "api_key", "credentials": {}},
        headers=auth,
    )
    assert response.status_code == 400
    assert "api_key" in response.json()["message"]
    assert (await client.get("/api/v1/oauth/accounts", headers=auth)).json()["data"] == []


async def test_malformed_json_is_a_400(client, auth):
    response = await client.post(
        "/api/v1/oauth/initiate",
        content=b'{"platform": ',
        headers=auth | {"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": 400,
        "message": "The request body is not valid JSON.",
        "data": None,
        "error_code": "invalid_json",
    }


async def test_wrong_types_and_missing_fields_name_the_field(client, auth):
    response = await client.post(
        "/api/v1/oauth/initiate", json={"platform": 7, "credentials": "x"}, headers=auth
    )
    assert response.status_code == 422
    message = response.json()["message"]
    assert "platform" in message and "account_name" in message and "credentials" in message


async def test_validation_errors_never_echo_the_submitted_secret(client, auth):
    response = await client.post(
        "/api/v1/oauth/initiate",
        json={
            "platform": "qwen",
            "account_name": "x",
            "credentials": {"api_key": ["sk-leaked-123456789"]},
        },
        headers=auth,
    )
    assert response.status_code == 422
    assert "sk-leaked" not in response.text


async def test_oversized_body_is_a_413(client, auth):
    body = b'{"platform": "qwen", "account_name": "' + b"x" * 2_000_000 + b'"}'
    response = await client.post(
        "/api/v1/oauth/initiate", content=body, headers=auth | {"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == 413
    assert response.json()["error_code"] == "payload_too_large"


async def test_a_path_id_that_is_not_a_number_is_a_422(client, auth):
    response = await client.put("/api/v1/oauth/accounts/abc/toggle", headers=auth)
    assert response.status_code == 422
    assert "account_id" in response.json()["message"]


async def test_unknown_route_answers_in_the_envelope(client, auth):
    response = await client.get("/api/v1/oauth/nothing-here", headers=auth)
    assert response.status_code == 404
    assert response.json() == {
        "code": 404,
        "message": "No such endpoint.",
        "data": None,
        "error_code": "endpoint_not_found",
    }


async def test_accounts_show_when_todays_quota_starts_again(client, auth):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    account = await bind(client, auth)
    reset = datetime.fromisoformat(account["quota_reset_at"].replace("Z", "+00:00"))
    local = reset.astimezone(ZoneInfo("Asia/Shanghai"))  # qwen's reset time zone
    assert (local.hour, local.minute, local.second) == (0, 0, 0)
    assert 0 < (reset - datetime.now(ZoneInfo("UTC"))).total_seconds() <= 86400


async def test_an_accounts_quota_comes_from_the_ledger(client, auth, platform_fakes):
    account = await bind(client, auth)
    quota = await client.get(f"/api/v1/oauth/accounts/{account['id']}/quota", headers=auth)
    assert quota.status_code == 200
    data = quota.json()["data"]
    assert data == {
        "used": 0, "limit": 1000000, "reset_at": account["quota_reset_at"], "source": "ledger"
    }  # fmt: skip
    await client.post(
        "/api/v1/oauth/chat/completions",
        json={"platform": "qwen", "model": "qwen-turbo",
              "messages": [{"role": "user", "content": "count these four words"}]},
        headers=auth,
    )  # fmt: skip
    after = (await client.get(f"/api/v1/oauth/accounts/{account['id']}/quota", headers=auth)).json()
    reported = platform_fakes.openai.model_requests[-1]
    assert reported.path == "/compatible-mode/v1/chat/completions"
    assert after["data"]["used"] > 0
    other = await client.get(f"/api/v1/oauth/accounts/{account['id']}/quota", headers={})
    assert other.status_code == 401


async def test_browser_login_is_not_offered_where_no_chromium_can_be_had(
    app, client, auth, monkeypatch, tmp_path
):
    pool = app_context(app).browser_logins.pool
    monkeypatch.setattr(pool, "_browser_path", str(tmp_path / "no-chromium"))
    platforms = (await client.get("/api/v1/oauth/platforms", headers=auth)).json()["data"]
    qwen = next(p for p in platforms if p["platform_id"] == "qwen")
    assert "browser" not in qwen["login_methods"] and "api_key" in qwen["login_methods"]
    assert "is not an executable Chromium" in qwen["unavailable_methods"]["browser"]
    refused = await client.post(
        "/api/v1/oauth/initiate",
        json={"platform": "qwen", "account_name": "q", "method": "browser"},
        headers=auth,
    )
    assert refused.status_code == 400
    assert "not an executable Chromium" in refused.json()["message"]


def test_make_run_prepares_a_chromium_as_make_test_does():
    import subprocess

    dry_run = subprocess.run(
        ["make", "-n", "run"], cwd=BACKEND_DIR.parent, capture_output=True, text=True, check=True
    ).stdout
    prepare = dry_run.index("scripts/ensure_chromium.sh")
    assert prepare < dry_run.index("uvicorn app.main:app")
