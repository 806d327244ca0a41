"""Odd input gets a clear 4xx in the route's own shape, never a 500: numbers past any bound, a
lone UTF-16 surrogate, JSON nested hundreds deep, on the call routes and elsewhere."""

from __future__ import annotations

import pytest

from tests.helpers.api import account

LONE_SURROGATE = '{"model": "qwen", "messages": [{"role": "user", "content": "\\ud800"}]}'
DEEP = "[" * 300 + "]" * 300
HEADERS = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    "body",
    [
        '{"model": "qwen", "messages": [{"role": "user", "content": "hi"}], '
        '"max_tokens": 9223372036854775807}',
        '{"model": "qwen", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1e30}',
        '{"model": "qwen", "messages": [{"role": "user", "content": "hi"}], '
        '"max_completion_tokens": 100000000000}',
        '{"model": "qwen", "messages": [{"role": "user", "content": "hi"}], "seed": 1e400}',
        '{"model": "qwen", "messages": [{"role": "user", "content": "hi"}], "top_logprobs": -5}',
        LONE_SURROGATE,
        '{"model": "qwen", "messages": [{"role": "user", "content": ' + DEEP + "}]}",
        '{"model": "qwen", "messages": [{"role": "user", "content": "hi"}], "x": ' + DEEP + "}",
    ],
    ids=["max_tokens-2^63", "max_tokens-1e30", "max_completion_tokens", "seed-inf",
         "top_logprobs-negative", "lone-surrogate", "deep-content", "deep-extra"],
)  # fmt: skip
async def test_odd_chat_bodies_are_refused_in_each_routes_shape(client, auth, body):
    await account(client, auth, "qwen")
    openai = await client.post("/v1/chat/completions", content=body, headers=auth | HEADERS)
    assert openai.status_code == 400, openai.text
    assert set(openai.json()["error"]) == {"message", "type", "param", "code"}
    seed = await client.post(
        "/api/v1/oauth/chat/completions",
        content=body.replace('"model": "qwen"', '"platform": "qwen", "model": "qwen-turbo"'),
        headers=auth | HEADERS,
    )
    assert seed.status_code in (400, 422), seed.text
    assert seed.json()["data"] is None and seed.json()["error_code"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/oauth/initiate", '{"platform": "qwen", "account_name": "\\udc00", '
         '"method": "api_key", "credentials": {"api_key": "sk-x"}}'),
        ("/api/v1/oauth/initiate", '{"platform": "qwen", "account_name": "a", '
         '"method": "api_key", "credentials": {"api_key": ' + DEEP + "}}"),
        ("/api/v1/auth/api-keys", '{"name": "\\ud800"}'),
        ("/api/v1/auth/register", '{"username": "\\ud800abc", "password": "a long password"}'),
    ],
    ids=["surrogate-name", "deep-credentials", "surrogate-key-name", "surrogate-username"],
)  # fmt: skip
async def test_odd_bodies_elsewhere_are_refused_in_the_envelope(client, auth, path, body):
    answer = await client.post(path, content=body, headers=auth | HEADERS)
    assert answer.status_code in (400, 422), answer.text
    assert answer.json()["data"] is None


@pytest.mark.parametrize("query", ["days=9223372036854775808", "days=1e30", "days=-1"])
async def test_odd_numbers_in_queries_are_refused(client, auth, query):
    answer = await client.get(f"/api/v1/oauth/usage?{query}", headers=auth)
    assert answer.status_code == 422, answer.text
