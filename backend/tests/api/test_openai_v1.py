"""The OpenAI-compatible surface: /v1/models, model names, and OpenAI's error shape."""

from __future__ import annotations

from app.api.deps import app_context
from tests.helpers.api import account
from tests.helpers.calls import said


async def test_models_lists_the_models_of_the_callers_platforms(client, auth):
    await account(client, auth, "qwen")
    await account(client, auth, "claude")
    response = await client.get("/v1/models", headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"
    ids = {m["id"] for m in body["data"]}
    assert {"qwen/qwen-turbo", "qwen/qwen-max", "claude/claude-sonnet-4-5"} <= ids
    assert {"qwen-turbo", "claude-sonnet-4-5"} <= ids  # unambiguous plain names too
    assert not any(i.startswith(("openai/", "gemini/")) for i in ids)  # no account there
    first = body["data"][0]
    assert first["object"] == "model" and isinstance(first["created"], int)
    assert first["owned_by"] in ("qwen", "claude")


async def test_a_model_is_named_by_platform_model_plain_name_or_platform(
    client, auth, platform_fakes
):
    await account(client, auth, "qwen")
    for model in ("qwen/qwen-max", "qwen-max", "qwen", "qwen/qwen-unlisted-preview"):
        response = await client.post(
            "/v1/chat/completions", json={"model": model, "messages": said()}, headers=auth
        )
        assert response.status_code == 200, (model, response.text)
        expected = "qwen-turbo" if model == "qwen" else model.removeprefix("qwen/")
        assert platform_fakes.openai.model_requests[-1].model == expected


async def test_unknown_models_and_bad_bodies_get_openais_error_shape(client, auth):
    unknown = await client.post(
        "/v1/chat/completions", json={"model": "gpt-9-ultra", "messages": said()}, headers=auth
    )
    assert unknown.status_code == 404
    error = unknown.json()["error"]
    assert error["code"] == "model_not_found" and error["type"] == "invalid_request_error"
    assert set(error) == {"message", "type", "param", "code"}

    invalid = await client.post("/v1/chat/completions", json={"model": "qwen"}, headers=auth)
    assert invalid.status_code == 400
    assert invalid.json()["error"]["param"] == "messages"

    role = await client.post(
        "/v1/chat/completions",
        json={"model": "qwen", "messages": [{"role": "robot", "content": "x"}]},
        headers=auth,
    )
    assert role.status_code == 400

    traversal = await client.post(
        "/v1/chat/completions", json={"model": "gemini/../../x", "messages": said()}, headers=auth
    )
    assert traversal.status_code == 400

    assert (await client.get("/v1/nothing-here", headers=auth)).json()["error"]["message"]
    unauthenticated = await client.get("/v1/models")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["type"] == "authentication_error"


async def test_unknown_parameters_reach_openai_format_platforms_only(client, auth, platform_fakes):
    await account(client, auth, "qwen")
    await account(client, auth, "claude")
    extra = {"enable_thinking": False, "temperature": 0.2}
    for model in ("qwen/qwen-plus", "claude/claude-haiku-4-5"):
        response = await client.post(
            "/v1/chat/completions", json={"model": model, "messages": said()} | extra, headers=auth
        )
        assert response.status_code == 200, response.text
    qwen_body = platform_fakes.openai.model_requests[-1].json
    assert qwen_body["enable_thinking"] is False and qwen_body["temperature"] == 0.2
    claude_body = platform_fakes.anthropic.model_requests[-1].json
    assert "enable_thinking" not in claude_body and claude_body["temperature"] == 0.2
    for reserved in ("api_key", "api_base", "mock_response"):  # never litellm's own options
        response = await client.post(
            "/v1/chat/completions",
            json={"model": "qwen", "messages": said(), reserved: "http://evil.example"},
            headers=auth,
        )
        assert response.status_code == 200
        assert platform_fakes.openai.model_requests[-1].json[reserved] == "http://evil.example"


async def test_an_oversized_body_is_refused_in_openais_shape(client, auth, app):
    limit = app_context(app).settings.max_body_bytes
    body = {"model": "qwen", "messages": [{"role": "user", "content": "x" * (limit + 1)}]}
    response = await client.post("/v1/chat/completions", json=body, headers=auth)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
