"""OpenAI's Responses API with the real `openai` SDK against the service on uvicorn, translated
onto the platform's chat API (the OpenAI-format fake, as Qwen): whole and streamed responses,
a function tool and its result, stored responses continued with `previous_response_id`, read,
listed and deleted by their user only; each failure as the SDK's own error; the books count
every call."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import openai
import pytest

from tests.fakes.upstream import MidStreamError, Reply, ToolCall, errors
from tests.helpers.api import account, accounts_by_id, create_api_key
from tests.helpers.sdks import WEATHER, openai_sdk

QWEN = "qwen/qwen-plus"


def asked(text: str = "Say hello") -> str:
    """A unique question of three words (the fakes count words as tokens)."""
    return f"{text} {uuid.uuid4().hex[:8]}"


@pytest.fixture
async def sdk(client, auth, service_url) -> AsyncIterator[openai.AsyncOpenAI]:
    key = (await create_api_key(client, auth))["key"]
    async with openai_sdk(service_url, key) as sdk:
        yield sdk


async def test_a_response_is_translated_and_counted(client, auth, platform_fakes, sdk):
    bound = await account(client, auth, "qwen")
    answer = await sdk.responses.create(
        model=QWEN,
        instructions="Be brief.",
        input=asked(),
        max_output_tokens=100,
        temperature=0.5,
        text={"format": {"type": "json_object"}},
        reasoning={"effort": "low"},
        user="user-7",
        metadata={"topic": "greeting"},
    )
    assert answer.object == "response" and answer.status == "completed"
    assert answer.output_text == "Hello!"
    assert answer.output[0].type == "message" and answer.output[0].role == "assistant"
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (5, 1)
    assert answer.usage.total_tokens == 6 and answer.metadata == {"topic": "greeting"}
    sent = platform_fakes.openai.model_requests[-1].json
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent["messages"][1]["role"] == "user"
    assert sent["max_tokens"] == 100 and sent["temperature"] == 0.5
    assert sent["response_format"] == {"type": "json_object"}
    assert sent["reasoning_effort"] == "low" and sent["user"] == "user-7"
    mine = await accounts_by_id(client, auth)
    assert mine[bound["id"]]["quota_used"] == 6


async def test_a_streamed_response_has_the_responses_events_in_sequence(
    client, auth, platform_fakes, sdk
):
    bound = await account(client, auth, "qwen")
    async with sdk.responses.stream(model=QWEN, input=asked()) as stream:
        events = [event async for event in stream]
        final = await stream.get_final_response()
    kinds = [event.type for event in events]
    assert kinds == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 3,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "Hello!"
    assert final.output_text == "Hello!" and final.status == "completed"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (3, 1)
    stored = await sdk.responses.retrieve(final.id)
    assert stored.output_text == "Hello!"  # stored before it ended
    mine = await accounts_by_id(client, auth)
    assert mine[bound["id"]]["quota_used"] == 4


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
async def test_a_function_call_and_its_output_go_round(client, auth, platform_fakes, sdk, streamed):
    bound = await account(client, auth, "qwen")
    platform_fakes.openai.script(
        ToolCall("get_weather", {"city": "Paris"}, id="call_weather_1"),
        Reply("Sunny in Paris."),
        credential=bound["key"],
    )
    question = [{"role": "user", "content": asked("Weather in Paris")}]
    if streamed:
        async with sdk.responses.stream(model=QWEN, input=question, tools=[WEATHER]) as stream:
            arguments = [e.delta async for e in stream if e.type.endswith("arguments.delta")]
            first = await stream.get_final_response()
        assert "".join(arguments) == '{"city":"Paris"}'
    else:
        first = await sdk.responses.create(
            model=QWEN, input=question, tools=[WEATHER], tool_choice="auto"
        )
    call = first.output[-1]
    assert call.type == "function_call" and call.name == "get_weather"
    assert call.call_id == "call_weather_1" and call.arguments == '{"city":"Paris"}'
    result = {"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 24 C"}
    second = await sdk.responses.create(
        model=QWEN, input=[*question, *first.output, result], tools=[WEATHER]
    )
    assert second.output_text == "Sunny in Paris."
    sent = platform_fakes.openai.model_requests[-1].json
    assert sent["tools"][0]["function"]["name"] == "get_weather"
    assert sent["messages"][-2]["tool_calls"][0]["id"] == "call_weather_1"
    assert sent["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "call_weather_1",
        "content": "sunny, 24 C",
    }
    mine = await accounts_by_id(client, auth)
    assert mine[bound["id"]]["quota_used"] == (first.usage.total_tokens + second.usage.total_tokens)


async def test_previous_response_id_continues_a_stored_conversation(
    client,
    auth,
    platform_fakes,
    sdk,
    service_url,
):
    await account(client, auth, "qwen")
    question = asked("Remember the word")
    first = await sdk.responses.create(model=QWEN, input=question)
    second = await sdk.responses.create(model=QWEN, input="And now?", previous_response_id=first.id)
    assert second.previous_response_id == first.id
    sent = platform_fakes.openai.model_requests[-1].json["messages"]
    assert sent == [
        {"role": "user", "content": question},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "And now?"},
    ]
    items = await sdk.responses.input_items.list(second.id, order="asc")
    assert [item.type for item in items.data] == ["message"] * 3
    assert items.data[0].content[0].text == question
    assert (await sdk.responses.retrieve(second.id)).output_text == "Hello!"

    # Another user knows nothing of these responses.
    async with openai_sdk(service_url, await _other_users_token(client)) as other:
        with pytest.raises(openai.NotFoundError):
            await other.responses.create(model=QWEN, input="Hi", previous_response_id=first.id)
        with pytest.raises(openai.NotFoundError):
            await other.responses.retrieve(first.id)

    await sdk.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        await sdk.responses.retrieve(first.id)
    with pytest.raises(openai.NotFoundError):
        await sdk.responses.create(model=QWEN, input="Hi", previous_response_id=first.id)


async def test_store_false_keeps_nothing(client, auth, sdk):
    await account(client, auth, "qwen")
    answer = await sdk.responses.create(model=QWEN, input=asked(), store=False)
    assert answer.store is False
    with pytest.raises(openai.NotFoundError):
        await sdk.responses.retrieve(answer.id)


async def _other_users_token(client) -> str:
    name = f"other{uuid.uuid4().hex[:8]}"
    login = {"username": name, "password": "another long password"}
    await client.post("/api/v1/auth/register", json=login)
    return (await client.post("/api/v1/auth/login", json=login)).json()["data"]["access_token"]


# --- failures, each as the SDK's own error ---------------------------------------------------


async def test_a_hosted_tool_is_refused_naming_it(client, auth, sdk):
    await account(client, auth, "qwen")
    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.responses.create(model=QWEN, input=asked(), tools=[{"type": "web_search"}])
    assert "web_search" in caught.value.message


async def test_a_bad_key_is_an_authentication_error(service_url):
    async with openai_sdk(service_url, "op-invalid") as sdk:
        with pytest.raises(openai.AuthenticationError):
            await sdk.responses.create(model=QWEN, input=asked())


async def test_an_unknown_model_is_not_found(client, auth, sdk):
    await account(client, auth, "qwen")
    with pytest.raises(openai.NotFoundError) as caught:
        await sdk.responses.create(model="no-such-model", input=asked())
    assert caught.value.body["code"] == "model_not_found"


async def test_quota_exhausted_is_a_rate_limit_error_with_retry_after(
    client, auth, platform_fakes, sdk
):
    bound = await account(client, auth, "openai")
    platform_fakes.openai.script(errors.openai_insufficient_quota(), credential=bound["key"])
    with pytest.raises(openai.RateLimitError) as caught:
        await sdk.responses.create(model="openai/gpt-4.1-mini", input=asked(), stream=True)
    assert int(caught.value.response.headers["retry-after"]) > 0


async def test_a_failure_mid_stream_is_a_response_failed_event(client, auth, platform_fakes, sdk):
    bound = await account(client, auth, "qwen")
    body = {"error": {"message": "upstream broke", "type": "server_error", "code": None}}
    platform_fakes.openai.script(MidStreamError(2, body), credential=bound["key"])
    stream = await sdk.responses.create(model=QWEN, input=asked(), stream=True)
    events = [event async for event in stream]
    assert events[0].type == "response.created"
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas and "Partial answer".startswith(deltas)
    failed = events[-1]
    assert failed.type == "response.failed" and failed.response.status == "failed"
    assert failed.response.error.code == "server_error"
    mine = await accounts_by_id(client, auth)
    assert mine[bound["id"]]["quota_used"] > 0  # what was delivered is charged
