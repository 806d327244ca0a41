"""The answer cache serves only what the caller can expect to be reused: a repeatable request
(temperature 0 or a seed), or one that asks with LiteLLM's `cache` field; never a new sample,
never an answer to tool results unless asked; `Cache-Control: no-cache`/`no-store` honoured;
an answer from the cache says so (`x-cache: hit`)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.api import account
from tests.helpers.calls import said

TOOL_ROUND = [
    {"role": "assistant", "content": None, "tool_calls": [{
        "id": "call_1", "type": "function",
        "function": {"name": "read_file", "arguments": "{\"path\": \"a.txt\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "the file's contents"},
]  # fmt: skip


async def twice(client, auth, platform_fakes, bound, headers=None, **body: Any) -> list[Any]:
    """The same request twice: the two answers, and how many reached the platform."""
    payload = {"platform": "openai", "messages": said("Cache?")} | body
    before = len([r for r in platform_fakes.openai.model_requests if r.credential == bound["key"]])
    answers = [
        await client.post(
            "/api/v1/oauth/chat/completions", json=payload, headers=auth | (headers or {})
        )
        for _ in range(2)
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
    seen = [r for r in platform_fakes.openai.model_requests if r.credential == bound["key"]]
    return [answers, len(seen) - before]


@pytest.fixture
async def bound(client, auth):
    return await account(client, auth, "openai")


@pytest.mark.parametrize(
    "body",
    [{"temperature": 1}, {}, {"temperature": 0.7, "top_p": 1}],
    ids=["temperature 1", "no temperature", "sampling"],
)
async def test_a_sampled_request_is_never_answered_from_the_cache(
    client, auth, platform_fakes, bound, body
):
    answers, upstream = await twice(client, auth, platform_fakes, bound, **body)
    assert upstream == 2
    assert all("x-cache" not in a.headers for a in answers)


@pytest.mark.parametrize(
    "body", [{"temperature": 0}, {"seed": 7, "temperature": 1}, {"temperature": 1, "cache": {}}]
)
async def test_a_repeatable_or_asking_request_is_answered_once(
    client, auth, platform_fakes, bound, body
):
    (first, second), upstream = await twice(client, auth, platform_fakes, bound, **body)
    assert upstream == 1
    assert "x-cache" not in first.headers and second.headers["x-cache"] == "hit"
    assert first.json()["data"]["choices"] == second.json()["data"]["choices"]
    assert "cache" not in platform_fakes.openai.model_requests[-1].json  # ours, not the platform's


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"Cache-Control": "no-cache"}, {"temperature": 0}),
        ({"Cache-Control": "no-store"}, {"temperature": 0}),
        ({}, {"temperature": 0, "cache": {"no-cache": True}}),
        ({}, {"temperature": 0, "cache": {"no-store": True}}),
    ],
)
async def test_no_cache_and_no_store_are_honoured(
    client, auth, platform_fakes, bound, headers, body
):
    _, upstream = await twice(client, auth, platform_fakes, bound, headers, **body)
    assert upstream == 2


async def test_no_store_keeps_nothing_for_the_next_request(client, auth, platform_fakes, bound):
    messages = said("Kept?")
    url = "/api/v1/oauth/chat/completions"
    body = {"platform": "openai", "messages": messages, "temperature": 0}
    await client.post(url, json=body, headers=auth | {"Cache-Control": "no-store"})
    plain = await client.post(url, json=body, headers=auth)
    assert "x-cache" not in plain.headers
    again = await client.post(url, json=body, headers=auth)
    assert again.headers["x-cache"] == "hit"  # the plain one was kept


async def test_tool_results_are_answered_afresh_unless_the_request_asks(
    client, auth, platform_fakes, bound
):
    messages = said("Read a.txt") + TOOL_ROUND
    _, upstream = await twice(client, auth, platform_fakes, bound, messages=messages, temperature=0)
    assert upstream == 2
    (_, second), upstream = await twice(
        client, auth, platform_fakes, bound, messages=messages, temperature=0, cache={"ttl": 60}
    )
    assert upstream == 1 and second.headers["x-cache"] == "hit"
