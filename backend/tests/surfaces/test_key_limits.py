"""An API key's allow-list of models: set on creation, shown and edited with GET/PATCH, and a
model outside it refused with 403 on every API surface, in that surface's own error shape,
before any platform is asked."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.api import account

REFUSED = "openai/gpt-4.1-mini"


async def _key(client, auth, limits: dict[str, Any] | None) -> dict[str, Any]:
    body = {"name": "script", "limits": limits}
    created = await client.post("/api/v1/auth/api-keys", json=body, headers=auth)
    assert created.status_code == 200, created.text
    return created.json()["data"]


def _requests(model: str) -> list[tuple[str, str, dict[str, Any], str]]:
    """(surface, path, body, header) for one model on each API surface."""
    said = [{"role": "user", "content": "hi"}]
    return [
        ("chat", "/v1/chat/completions", {"model": model, "messages": said}, "authorization"),
        ("responses", "/v1/responses", {"model": model, "input": "hi"}, "authorization"),
        ("completions", "/v1/completions", {"model": model, "prompt": "hi"}, "authorization"),
        ("anthropic", "/v1/messages", {"model": model, "max_tokens": 10, "messages": said},
         "x-api-key"),
        ("gemini", f"/v1beta/models/{model}:generateContent",
         {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}, "x-goog-api-key"),
    ]  # fmt: skip


def _shape_says_forbidden(surface: str, body: dict[str, Any]) -> bool:
    if surface == "anthropic":
        return body["type"] == "error" and body["error"]["type"] == "permission_error"
    if surface == "gemini":
        return body["error"]["status"] == "PERMISSION_DENIED" and body["error"]["code"] == 403
    return body["error"]["code"] == "model_not_allowed"


async def test_a_model_outside_the_allow_list_is_refused_on_every_surface(
    client, auth, platform_fakes
):
    await account(client, auth, "openai")
    await account(client, auth, "zhipu")
    key = (await _key(client, auth, {"models": ["zhipu/*", "qwen-plus"]}))["key"]
    asked_before = len(platform_fakes.openai.model_requests)
    for surface, path, body, header in _requests(REFUSED):
        value = f"Bearer {key}" if header == "authorization" else key
        refused = await client.post(path, json=body, headers={header: value})
        assert refused.status_code == 403, (surface, refused.text)
        assert _shape_says_forbidden(surface, refused.json()), (surface, refused.text)
        assert "gpt-4.1-mini" in refused.text
    assert len(platform_fakes.openai.model_requests) == asked_before
    for surface, path, body, header in _requests("zhipu/glm-4-flash"):
        value = f"Bearer {key}" if header == "authorization" else key
        answered = await client.post(path, json=body, headers={header: value})
        assert answered.status_code == 200, (surface, answered.text)


async def test_limits_are_shown_and_edited(client, auth):
    created = await _key(client, auth, {"models": ["zhipu/*"]})
    path = f"/api/v1/auth/api-keys/{created['id']}"
    shown = (await client.get(path, headers=auth)).json()["data"]
    assert shown["limits"] == {"models": ["zhipu/*"]} and "key" not in shown
    edited = await client.patch(path, json={"limits": {"models": ["qwen/*"]}}, headers=auth)
    assert edited.json()["data"]["limits"] == {"models": ["qwen/*"]}
    renamed = await client.patch(path, json={"name": "renamed"}, headers=auth)
    assert renamed.json()["data"]["limits"] == {"models": ["qwen/*"]}
    lifted = await client.patch(path, json={"limits": None}, headers=auth)
    assert lifted.json()["data"]["limits"] is None
    listed = (await client.get("/api/v1/auth/api-keys", headers=auth)).json()["data"]
    assert [k["name"] for k in listed if k["id"] == created["id"]] == ["renamed"]


@pytest.mark.parametrize(
    "limits", [{"models": []}, {"models": ["has space"]}, {"tokens": 5}, {"models": "zhipu/*"}]
)
async def test_bad_limits_are_refused(client, auth, limits):
    body = {"name": "script", "limits": limits}
    refused = await client.post("/api/v1/auth/api-keys", json=body, headers=auth)
    assert refused.status_code == 422, refused.text


async def test_another_users_key_is_not_found(client, auth, app):
    from tests.conftest import new_user

    created = await _key(client, auth, None)
    other = await new_user(app)
    path = f"/api/v1/auth/api-keys/{created['id']}"
    assert (await client.get(path, headers=other)).status_code == 404
    assert (await client.patch(path, json={"name": "x"}, headers=other)).status_code == 404
