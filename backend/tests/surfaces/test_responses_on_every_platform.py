"""The Responses API on platforms of every wire format, with the real `openai` SDK: Claude
(Anthropic's Messages API) and Gemini (generateContent) through litellm, Zhipu and Ark on
OpenAI-format chat — each a streamed function call, its output sent back, and the answer; the
platform sees its own wire's tool call and result; the books count both calls."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest

from tests.fakes.upstream import Reply, ToolCall, errors
from tests.helpers.api import account, accounts_by_id, create_api_key
from tests.helpers.sdks import WEATHER, openai_sdk

MODELS = {
    "claude": "claude/claude-haiku-4-5",
    "gemini": "gemini/gemini-2.5-flash",
    "zhipu": "zhipu/glm-4-flash",
    "doubao": "doubao/doubao-seed-1-6-251015",
}
WIRE = {"claude": "anthropic", "gemini": "gemini", "zhipu": "openai", "doubao": "openai"}


@pytest.fixture
async def sdk(client, auth, service_url) -> AsyncIterator[openai.AsyncOpenAI]:
    key = (await create_api_key(client, auth))["key"]
    async with openai_sdk(service_url, key) as sdk:
        yield sdk


def tool_result_sent(wire: str, request: dict[str, Any]) -> Any:
    """What the platform was sent as the tool's result, in its own wire format."""
    if wire == "anthropic":
        blocks = [
            b for m in request["messages"] for b in m["content"] if isinstance(m["content"], list)
        ]
        return next(b["content"] for b in blocks if b.get("type") == "tool_result")
    if wire == "gemini":
        # Google's JSON takes either spelling; litellm writes snake_case.
        parts = [p for c in request["contents"] for p in c["parts"]]
        answers = [p.get("functionResponse") or p.get("function_response") for p in parts]
        return next(a["response"] for a in answers if a)
    return next(m["content"] for m in request["messages"] if m["role"] == "tool")


@pytest.mark.parametrize("platform", list(MODELS))
async def test_a_streamed_tool_round_trip(client, auth, platform_fakes, sdk, platform):
    bound = await account(client, auth, platform)
    fake = getattr(platform_fakes, WIRE[platform])
    fake.script(
        ToolCall("get_weather", {"city": "Paris"}, id="call_weather_7"),
        Reply("Sunny in Paris."),
        credential=bound["key"],
    )
    question = [{"role": "user", "content": f"Weather in Paris {uuid.uuid4().hex[:6]}"}]
    async with sdk.responses.stream(
        model=MODELS[platform], input=question, tools=[WEATHER], instructions="Be brief."
    ) as stream:
        kinds = [event.type async for event in stream]
        first = await stream.get_final_response()
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.function_call_arguments.done" in kinds
    call = first.output[-1]
    assert call.type == "function_call" and call.name == "get_weather"
    assert call.arguments.replace(" ", "") == '{"city":"Paris"}'
    result = {"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 24 C"}
    second = await sdk.responses.create(
        model=MODELS[platform], input=[*question, *first.output, result], tools=[WEATHER]
    )
    assert second.output_text == "Sunny in Paris." and second.status == "completed"
    sent = fake.model_requests[-1].json
    assert "sunny, 24 C" in str(tool_result_sent(WIRE[platform], sent))
    used = first.usage.total_tokens + second.usage.total_tokens
    assert (await accounts_by_id(client, auth))[bound["id"]]["quota_used"] == used


FAILURES = {
    "claude": (errors.anthropic_rate_limited(), errors.anthropic_overloaded()),
    "gemini": (errors.gemini_quota_exhausted(daily=False), errors.gemini_overloaded()),
}


@pytest.mark.parametrize("platform", list(FAILURES))
async def test_a_rate_limit_before_the_first_byte_is_openais_429(
    client, auth, platform_fakes, sdk, platform
):
    bound = await account(client, auth, platform)
    fake = getattr(platform_fakes, WIRE[platform])
    fake.script(FAILURES[platform][0], credential=bound["key"])
    with pytest.raises(openai.RateLimitError) as caught:
        await sdk.responses.create(model=MODELS[platform], input="Hello there", stream=True)
    assert int(caught.value.response.headers["retry-after"]) > 0
    assert caught.value.body["type"] and caught.value.body["message"]


@pytest.mark.parametrize("platform", list(FAILURES))
async def test_a_failure_after_the_first_byte_is_response_failed(
    client, auth, platform_fakes, sdk, platform
):
    bound = await account(client, auth, platform)
    fake = getattr(platform_fakes, WIRE[platform])
    broken = FAILURES[platform][1].mid_stream(after_chunks=2)
    fake.script(broken, credential=bound["key"])
    stream = await sdk.responses.create(model=MODELS[platform], input="Hello there", stream=True)
    events = [event async for event in stream]
    assert events[0].type == "response.created"
    assert any(e.type == "response.output_text.delta" for e in events)
    failed = events[-1]
    assert failed.type == "response.failed" and failed.response.status == "failed"
    assert failed.response.error.message
    assert (await accounts_by_id(client, auth))[bound["id"]]["quota_used"] > 0  # part delivered
