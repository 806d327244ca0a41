"""OpenAI accounts get a Responses API request on OpenAI's own `/responses` (the OpenAI fake's
Responses wire): what only OpenAI runs (a hosted tool, `include`) reaches it, the answer and its
events come back as OpenAI sent them, the service stores the conversation itself (OpenAI is told
to store nothing) and continues it with `previous_response_id`; a failure mid-stream is a
`response.failed`; the books count every call, cached and reasoning tokens apart."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import openai
import pytest

from tests.fakes.upstream import MidStreamError, Reply
from tests.helpers.api import account, accounts_by_id, create_api_key
from tests.helpers.sdks import openai_sdk

GPT = "openai/gpt-4.1-mini"


@pytest.fixture
async def sdk(client, auth, service_url) -> AsyncIterator[openai.AsyncOpenAI]:
    key = (await create_api_key(client, auth))["key"]
    async with openai_sdk(service_url, key) as sdk:
        yield sdk


def asked(text: str = "Say hello") -> str:
    return f"{text} {uuid.uuid4().hex[:8]}"


async def test_openai_gets_the_request_as_it_was_written(client, auth, platform_fakes, sdk):
    bound = await account(client, auth, "openai")
    platform_fakes.openai.script(
        Reply("Hello!", cached_tokens=2, reasoning_tokens=1), credential=bound["key"]
    )
    answer = await sdk.responses.create(
        model=GPT,
        input=asked(),
        tools=[{"type": "web_search"}],
        include=["reasoning.encrypted_content"],
    )
    assert answer.output_text == "Hello!" and answer.id.startswith("resp_chatcmpl-fake")
    assert answer.usage.input_tokens_details.cached_tokens == 2
    seen = platform_fakes.openai.model_requests[-1]
    assert seen.path == "/v1/responses" and seen.credential == bound["key"]
    assert seen.json["model"] == "gpt-4.1-mini" and seen.json["store"] is False
    assert seen.json["tools"] == [{"type": "web_search"}]
    assert seen.json["include"] == ["reasoning.encrypted_content"]
    assert (await sdk.responses.retrieve(answer.id)).output_text == "Hello!"  # stored here
    mine = await accounts_by_id(client, auth)
    assert mine[bound["id"]]["quota_used"] == answer.usage.total_tokens
    rows = (await client.get("/api/v1/oauth/usage?days=2", headers=auth)).json()["data"]
    row = next(r for r in rows if r["account_id"] == bound["id"])
    assert (row["cached_tokens"], row["reasoning_tokens"]) == (2, 1)


async def test_a_stream_continues_a_stored_conversation(client, auth, platform_fakes, sdk):
    bound = await account(client, auth, "openai")
    question = asked("Remember the word")
    first = await sdk.responses.create(model=GPT, input=question)
    continued = sdk.responses.stream(model=GPT, input="And now?", previous_response_id=first.id)
    async with continued as stream:
        events = [event async for event in stream]
        final = await stream.get_final_response()
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))  # OpenAI's own
    assert final.output_text == "Hello!"
    sent = platform_fakes.openai.model_requests[-1].json
    assert "previous_response_id" not in sent and sent["stream"] is True
    assert [item.get("role") for item in sent["input"]] == ["user", "assistant", "user"]
    assert all("id" not in item for item in sent["input"][:2])
    assert sent["input"][2]["content"] == "And now?"
    assert (await sdk.responses.retrieve(final.id)).output_text == "Hello!"
    mine = await accounts_by_id(client, auth)
    assert mine[bound["id"]]["quota_used"] == (first.usage.total_tokens + final.usage.total_tokens)


async def test_a_failure_mid_stream_is_a_response_failed_event(client, auth, platform_fakes, sdk):
    bound = await account(client, auth, "openai")
    body = {"error": {"message": "upstream broke", "type": "server_error", "code": None}}
    platform_fakes.openai.script(MidStreamError(2, body), credential=bound["key"])
    stream = await sdk.responses.create(model=GPT, input=asked(), stream=True)
    events = [event async for event in stream]
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas and "Partial answer".startswith(deltas)
    failed = events[-1]
    assert failed.type == "response.failed" and failed.response.status == "failed"
    assert "upstream broke" in failed.response.error.message
    mine = await accounts_by_id(client, auth)
    assert mine[bound["id"]]["quota_used"] > 0  # what was delivered is charged


async def test_what_only_openai_takes_goes_there_and_is_refused_elsewhere(
    client, auth, platform_fakes, sdk
):
    """Codex's freeform tools (a `custom` tool, its calls and outputs) and file parts reach an
    OpenAI account as they are; a platform translated onto chat refuses them naming the item."""
    await account(client, auth, "openai")
    await account(client, auth, "qwen")
    patch = {"type": "custom", "name": "apply_patch", "description": "Edit files"}
    history = [
        {"role": "user", "content": [{"type": "input_text", "text": asked()}]},
        {"type": "custom_tool_call", "call_id": "call_p1", "name": "apply_patch", "input": "x"},
        {"type": "custom_tool_call_output", "call_id": "call_p1", "output": "done"},
    ]
    answer = await sdk.responses.create(model=GPT, input=history, tools=[patch])
    assert answer.output_text == "Hello!"
    sent = platform_fakes.openai.model_requests[-1].json
    assert sent["input"] == history and sent["tools"] == [patch]
    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.responses.create(model="qwen/qwen-plus", input=history)
    assert "custom_tool_call" in caught.value.message
