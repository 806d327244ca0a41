"""Every failure's envelope names it with a stable `error_code`, whoever raised it: the service's
own errors, request validation, routing (404, 405) and an unexpected fault (500)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.services import platforms


def envelope_of(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "data", "error_code"}
    assert body["code"] == response.status_code and body["data"] is None and body["message"]
    return body


async def test_a_missing_field_is_a_validation_error(client, auth):
    response = await client.post("/api/v1/oauth/initiate", json={"platform": "qwen"}, headers=auth)
    assert response.status_code == 422
    assert envelope_of(response)["error_code"] == "validation_error"


async def test_a_body_that_is_not_json_is_invalid_json(client, auth):
    response = await client.post(
        "/api/v1/auth/register", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert envelope_of(response)["error_code"] == "invalid_json"


async def test_routing_failures_have_codes(client, auth):
    missing = await client.get("/api/v1/no-such-route", headers=auth)
    assert missing.status_code == 404
    assert envelope_of(missing)["error_code"] == "endpoint_not_found"
    wrong_method = await client.patch("/api/v1/oauth/accounts", headers=auth)
    assert wrong_method.status_code == 405
    assert envelope_of(wrong_method)["error_code"] == "method_not_allowed"


async def test_the_services_own_errors_carry_their_code(client, auth):
    unknown = await client.delete("/api/v1/oauth/accounts/999999999", headers=auth)
    assert unknown.status_code == 404
    assert envelope_of(unknown)["error_code"] == "not_found"
    anonymous = await client.get("/api/v1/oauth/accounts")
    assert envelope_of(anonymous)["error_code"] == "unauthorized"
    forged = await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer not.a.jwt"})
    assert envelope_of(forged)["error_code"] == "invalid_token"
    not_admin = await client.get("/api/v1/admin/users", headers=auth)
    assert not_admin.status_code == 403
    assert envelope_of(not_admin)["error_code"] == "forbidden"


async def test_a_call_with_no_account_says_so(client, auth):
    body = {
        "platform": "qwen",
        "model": "qwen-turbo",
        "messages": [{"role": "user", "content": "hi"}],
    }
    response = await client.post("/api/v1/oauth/chat/completions", json=body, headers=auth)
    assert response.status_code == 400
    assert envelope_of(response)["error_code"] == "no_account"


async def test_an_unexpected_fault_is_an_internal_error(app, auth, monkeypatch):
    async def broken(*_args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(platforms, "list_platforms", broken)
    # The app answers the 500, then re-raises the error for the server to log: let it be.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/api/v1/oauth/platforms", headers=auth)
    assert response.status_code == 500
    body = envelope_of(response)
    assert body["error_code"] == "internal_error" and "a bug" not in body["message"]


@pytest.mark.parametrize("path", ["/v1/models/none/here", "/v1/chat/completions"])
async def test_openai_routes_keep_openais_shape(client, auth, path):
    response = await client.patch(path, headers=auth)
    assert response.status_code in (404, 405)
    assert set(response.json()) == {"error"}
