"""Anthropic's Messages API with the real `anthropic` SDK against the service on uvicorn: Claude
accounts get the request as it is (the Anthropic fake sees it unchanged), other platforms a
translation (the OpenAI-format fake, as Qwen); each failure reaches the SDK as its own error
class; the books count every call."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import pytest

from tests.fakes.upstream import Error, MidStreamError, Reply, ToolCall, errors
from tests.helpers.api import account, accounts_by_id, create_api_key
from tests.helpers.sdks import anthropic_sdk

QWEN = "qwen/qwen-plus"
CLAUDE = "claude/claude-sonnet-4-5"
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def asked(text: str = "Say hello") -> list[dict[str, Any]]:
    """A unique user turn (three words: the fakes count words as tokens)."""
    return [{"role": "user", "content": f"{text} {uuid.uuid4().hex[:8]}"}]


@pytest.fixture
async def sdk(client, auth, service_url) -> AsyncIterator[anthropic.AsyncAnthropic]:
    key = (await create_api_key(client, auth))["key"]
    async with anthropic_sdk(service_url, key) as sdk:
        yield sdk


async def test_a_message_from_a_translated_platform_counts_in_the_books(
    client, auth, platform_fakes, sdk
):
    bound = await account(client, auth, "qwen")
    message = await sdk.messages.create(
        model=QWEN,
        max_tokens=100,
        system="Be brief.",
        messages=asked(),
        stop_sequences=["END"],
        extra_body={"temperature": 0.5},
        metadata={"user_id": "user-7"},
    )
    assert message.type == "message" and message.role == "assistant"
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == "Hello!"
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (5, 1)
    sent = platform_fakes.openai.model_requests[-1].json
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent["max_tokens"] == 100 and sent["stop"] == ["END"]
    assert sent["temperature"] == 0.5
    mine = await accounts_by_id(client, auth)
    assert mine[bound["id"]]["quota_used"] == 6


async def test_claude_gets_the_request_as_it_was_written(client, auth, platform_fakes, sdk):
    bound = await account(client, auth, "claude")
    system = [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]
    history = [
        *asked("What is two plus two"),
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Two and two.", "signature": "sig-1"},
                {"type": "text", "text": "Four."},
            ],
        },
        *asked(),
    ]
    message = await sdk.messages.create(
        model=CLAUDE,
        max_tokens=2048,
        system=system,
        messages=history,
        thinking={"type": "enabled", "budget_tokens": 1024},
        extra_body={"top_k": 5},
        extra_headers={"anthropic-beta": "context-management-2025-06-27"},
    )
    assert message.content[0].text == "Hello!"
    seen = platform_fakes.anthropic.model_requests[-1]
    assert seen.credential == bound["key"]
    assert seen.headers["anthropic-beta"] == "context-management-2025-06-27"
    assert seen.json["model"] == "claude-sonnet-4-5"
    assert seen.json["system"] == system
    assert seen.json["messages"][1]["content"][0]["signature"] == "sig-1"
    assert seen.json["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert seen.json["top_k"] == 5
    mine = await accounts_by_id(client, auth)
    assert mine[bound["id"]]["quota_used"] == message.usage.input_tokens + 1


@pytest.mark.parametrize("model", [QWEN, CLAUDE])
async def test_a_streamed_message_has_anthropics_events(client, auth, platform_fakes, sdk, model):
    bound = await account(client, auth, model.split("/")[0])
    async with sdk.messages.stream(model=model, max_tokens=50, messages=asked()) as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_message()
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert "content_block_start" in kinds and "content_block_stop" in kinds
    assert "message_delta" in kinds
    assert final.content[0].text == "Hello!" and final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (3, 1)
    mine = await accounts_by_id(client, auth)
    assert mine[bound["id"]]["quota_used"] == 4


@pytest.mark.parametrize("model", [QWEN, CLAUDE])
@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
async def test_a_tool_call_and_its_result_go_round(
    client, auth, platform_fakes, sdk, model, streamed
):
    bound = await account(client, auth, model.split("/")[0])
    fake = platform_fakes.anthropic if model == CLAUDE else platform_fakes.openai
    fake.script(
        ToolCall("get_weather", {"city": "Paris"}, id="toolu_fake_1"),
        Reply("Sunny in Paris."),
        credential=bound["key"],
    )
    question = asked("Weather in Paris")
    ask = {"model": model, "max_tokens": 200, "tools": [WEATHER]}
    if streamed:
        async with sdk.messages.stream(messages=question, **ask) as stream:
            first = await stream.get_final_message()
    else:
        first = await sdk.messages.create(messages=question, tool_choice={"type": "auto"}, **ask)
    assert first.stop_reason == "tool_use"
    use = first.content[-1]
    assert use.type == "tool_use" and use.name == "get_weather"
    assert use.input == {"city": "Paris"} and use.id == "toolu_fake_1"
    result = {"type": "tool_result", "tool_use_id": use.id, "content": "sunny, 24 C"}
    history = [*question, {"role": "assistant", "content": first.content}]
    second = await sdk.messages.create(
        messages=[*history, {"role": "user", "content": [result]}], **ask
    )
    assert second.content[0].text == "Sunny in Paris."
    sent = fake.model_requests[-1].json
    if model == QWEN:
        assert sent["tools"][0]["function"]["name"] == "get_weather"
        assert sent["messages"][-2]["tool_calls"][0]["id"] == "toolu_fake_1"
        assert sent["messages"][-1] == {
            "role": "tool",
            "tool_call_id": "toolu_fake_1",
            "content": "sunny, 24 C",
        }
    else:
        assert sent["messages"][-1]["content"] == [result]
    mine = await accounts_by_id(client, auth)
    assert mine[bound["id"]]["quota_used"] == (
        first.usage.input_tokens + first.usage.output_tokens
        + second.usage.input_tokens + second.usage.output_tokens
    )  # fmt: skip


async def test_count_tokens_counts_the_prompt(client, auth, sdk):
    await account(client, auth, "qwen")
    counted = await sdk.messages.count_tokens(model=QWEN, messages=asked("Count these words"))
    assert 3 <= counted.input_tokens < 30


# --- failures, each as the SDK's own error ---------------------------------------------------


async def test_a_bad_key_is_an_authentication_error(service_url):
    async with anthropic_sdk(service_url, "op-invalid") as sdk:
        with pytest.raises(anthropic.AuthenticationError) as caught:
            await sdk.messages.create(model=QWEN, max_tokens=10, messages=asked())
    assert caught.value.body["error"]["type"] == "authentication_error"


async def test_an_unknown_model_is_not_found(client, auth, sdk):
    await account(client, auth, "qwen")
    with pytest.raises(anthropic.NotFoundError) as caught:
        await sdk.messages.create(model="no-such-model", max_tokens=10, messages=asked())
    assert caught.value.body["error"]["type"] == "not_found_error"


async def test_a_missing_max_tokens_is_an_invalid_request(client, auth):
    key = (await create_api_key(client, auth))["key"]
    body = {"model": QWEN, "messages": asked()}
    response = await client.post("/v1/messages", json=body, headers={"x-api-key": key})
    assert response.status_code == 400
    error = response.json()
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in error["error"]["message"]


async def test_quota_exhausted_is_a_rate_limit_error_with_retry_after(
    client, auth, platform_fakes, sdk
):
    bound = await account(client, auth, "claude")
    platform_fakes.anthropic.script(errors.anthropic_billing_error(), credential=bound["key"])
    with pytest.raises(anthropic.RateLimitError) as caught:
        await sdk.messages.create(model=CLAUDE, max_tokens=10, messages=asked())
    assert int(caught.value.response.headers["retry-after"]) > 0
    assert caught.value.body["error"]["type"] == "rate_limit_error"


async def test_an_overloaded_platform_is_529(client, auth, platform_fakes, sdk):
    bound = await account(client, auth, "qwen")
    overloaded = Error(503, {"error": {"message": "busy", "type": "server_error", "code": None}})
    platform_fakes.openai.script(overloaded, overloaded, overloaded, credential=bound["key"])
    with pytest.raises(anthropic.APIStatusError) as caught:
        await sdk.messages.create(model=QWEN, max_tokens=10, messages=asked())
    assert caught.value.status_code == 529
    assert caught.value.body["error"]["type"] == "overloaded_error"


# The translated case on OpenAI's own wire: its stream is read event by event (the lean path),
# so the failure surely comes after the first byte of answer.
@pytest.mark.parametrize("model", ["openai/gpt-4.1-mini", CLAUDE])
async def test_a_failure_mid_stream_is_an_error_event(client, auth, platform_fakes, sdk, model):
    bound = await account(client, auth, model.split("/")[0])
    if model == CLAUDE:
        failure = errors.anthropic_overloaded().mid_stream(after_chunks=2)
        platform_fakes.anthropic.script(failure, credential=bound["key"])
    else:
        body = {"error": {"message": "upstream broke", "type": "server_error", "code": None}}
        platform_fakes.openai.script(MidStreamError(2, body), credential=bound["key"])
    texts: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as caught:
        async with sdk.messages.stream(model=model, max_tokens=50, messages=asked()) as stream:
            async for text in stream.text_stream:
                texts.append(text)
    assert "".join(texts) == "Partial answer"[: len("".join(texts))] and texts
    assert caught.value.body["error"]["type"] in ("overloaded_error", "api_error")
    mine = await accounts_by_id(client, auth)
    assert mine[bound["id"]]["quota_used"] > 0  # what was delivered is charged


async def test_a_server_tool_on_a_translated_platform_is_refused_by_name(client, auth):
    await account(client, auth, "qwen")
    key = (await create_api_key(client, auth))["key"]
    body = {
        "model": QWEN,
        "max_tokens": 10,
        "messages": asked(),
        "tools": [{"type": "web_search_20250305", "name": "web_search"}],
    }
    response = await client.post("/v1/messages", json=body, headers={"x-api-key": key})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and "web_search_20250305" in error["message"]


async def test_images_and_system_turns_are_translated(client, auth, platform_fakes):
    await account(client, auth, "qwen")
    key = (await create_api_key(client, auth))["key"]
    image = {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}
    body = {
        "model": QWEN,
        "max_tokens": 10,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this"},
                    {"type": "image", "source": image},
                ],
            },
            {"role": "system", "content": [{"type": "text", "text": "Answer in one word."}]},
        ],
    }
    response = await client.post(
        "/v1/messages", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200, response.text
    sent = platform_fakes.openai.model_requests[-1].json["messages"]
    assert sent[0]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="},
    }
    assert sent[1] == {"role": "system", "content": "Answer in one word."}


@pytest.mark.parametrize("model", [QWEN, CLAUDE])
@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
async def test_cached_and_reasoning_tokens_reach_the_answer_and_the_books(
    client, auth, platform_fakes, sdk, model, streamed
):
    bound = await account(client, auth, model.split("/")[0])
    fake = platform_fakes.anthropic if model == CLAUDE else platform_fakes.openai
    fake.script(Reply("Hello there!", cached_tokens=2, reasoning_tokens=1), credential=bound["key"])
    if streamed:
        async with sdk.messages.stream(model=model, max_tokens=50, messages=asked()) as stream:
            usage = (await stream.get_final_message()).usage
    else:
        usage = (await sdk.messages.create(model=model, max_tokens=50, messages=asked())).usage
    assert (usage.input_tokens, usage.cache_read_input_tokens) == (1, 2)  # 3 words, 2 cached
    rows = (await client.get("/api/v1/oauth/usage?days=2", headers=auth)).json()["data"]
    books = next(row for row in rows if row["account_id"] == bound["id"])
    assert (books["prompt_tokens"], books["cached_tokens"]) == (3, 2)
    # Anthropic reports no thinking tokens of its own here; a translated platform's are kept.
    assert books["reasoning_tokens"] == (1 if model == QWEN else 0)
