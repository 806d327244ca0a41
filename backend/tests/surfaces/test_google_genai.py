"""Google's Gemini API with the real `google-genai` SDK against the service on uvicorn: Gemini
accounts get the request as it is (the Gemini fake sees it unchanged), other platforms a
translation (the OpenAI-format fake, as Qwen), reached by `platform/model` as the SDK puts it in
the path; failures reach the SDK as its own errors; the books count every call."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from tests.fakes.upstream import MidStreamError, Reply, ToolCall, errors
from tests.helpers.api import account, accounts_by_id, create_api_key

T = TypeVar("T")
QWEN = "qwen/qwen-plus"
GEMINI = "gemini-2.5-flash"
WEATHER = types.FunctionDeclaration(
    name="get_weather",
    description="The weather in a city",
    parameters=types.Schema(
        type=types.Type.OBJECT,
        properties={"city": types.Schema(type=types.Type.STRING)},
        required=["city"],
    ),
)


def asked(text: str = "Say hello") -> str:
    """A unique prompt (three words: the fakes count words as tokens)."""
    return f"{text} {uuid.uuid4().hex[:8]}"


def platform_of(model: str) -> str:
    return "gemini" if model == GEMINI else model.split("/")[0]


async def off_loop(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """The SDK's blocking call in a thread: the service answering it shares the test's SQLite
    file, and a blocked event loop could stall it on a write this loop had under way."""
    return await asyncio.to_thread(call, *args, **kwargs)


async def streamed_off_loop(sdk: Any, **request: Any) -> list[Any]:
    return await off_loop(lambda: list(sdk.models.generate_content_stream(**request)))


@pytest.fixture
async def sdk(client, auth, service_url) -> Any:
    key = (await create_api_key(client, auth))["key"]
    options = types.HttpOptions(base_url=service_url, retry_options=None)
    with genai.Client(api_key=key, http_options=options) as google:
        yield google


async def test_content_from_a_translated_platform_counts_in_the_books(
    client, auth, platform_fakes, sdk
):
    bound = await account(client, auth, "qwen")
    schema = types.Schema(type=types.Type.OBJECT, properties={"a": {"type": "STRING"}})
    answer = await off_loop(
        sdk.models.generate_content,
        model=QWEN,
        contents=asked(),
        config=types.GenerateContentConfig(
            system_instruction="Be brief.",
            temperature=0.5,
            max_output_tokens=100,
            response_mime_type="application/json",
            response_schema=schema,
        ),
    )
    assert answer.text == "Hello!"
    assert answer.candidates[0].finish_reason == types.FinishReason.STOP
    usage = answer.usage_metadata
    assert (usage.prompt_token_count, usage.candidates_token_count) == (5, 1)
    sent = platform_fakes.openai.model_requests[-1]
    assert sent.json["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent.json["max_tokens"] == 100 and sent.json["temperature"] == 0.5
    assert sent.json["response_format"]["type"] == "json_schema"
    assert sent.json["response_format"]["json_schema"]["schema"]["type"] == "object"
    mine = await accounts_by_id(client, auth)
    assert mine[bound["id"]]["quota_used"] == 6


async def test_gemini_gets_the_request_as_it_was_written(client, auth, platform_fakes, sdk):
    bound = await account(client, auth, "gemini")
    safety = types.SafetySetting(
        category=types.HarmCategory.HARM_CATEGORY_HARASSMENT,
        threshold=types.HarmBlockThreshold.BLOCK_ONLY_HIGH,
    )
    config = types.GenerateContentConfig(
        safety_settings=[safety], thinking_config=types.ThinkingConfig(thinking_budget=512)
    )
    answer = await off_loop(
        sdk.models.generate_content, model=GEMINI, contents=asked(), config=config
    )
    assert answer.text == "Hello!"
    seen = platform_fakes.gemini.model_requests[-1]
    assert seen.credential == bound["key"]
    assert seen.path.endswith(f"/models/{GEMINI}:generateContent")
    assert seen.json["safetySettings"][0]["threshold"] == "BLOCK_ONLY_HIGH"
    assert list(seen.json["generationConfig"]["thinkingConfig"].values()) == [512]
    mine = await accounts_by_id(client, auth)
    assert mine[bound["id"]]["quota_used"] == answer.usage_metadata.total_token_count


@pytest.mark.parametrize("model", [QWEN, GEMINI])
async def test_a_streamed_answer_comes_in_events(client, auth, platform_fakes, sdk, model):
    bound = await account(client, auth, platform_of(model))
    chunks = await streamed_off_loop(sdk, model=model, contents=asked())
    assert "".join(c.text or "" for c in chunks) == "Hello!"
    last = chunks[-1]
    assert last.candidates[0].finish_reason == types.FinishReason.STOP
    usage = last.usage_metadata
    assert (usage.prompt_token_count, usage.candidates_token_count) == (3, 1)
    mine = await accounts_by_id(client, auth)
    assert mine[bound["id"]]["quota_used"] == 4


@pytest.mark.parametrize("model", [QWEN, GEMINI])
@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
async def test_a_function_call_and_its_response_go_round(
    client, auth, platform_fakes, sdk, model, streamed
):
    bound = await account(client, auth, platform_of(model))
    fake = platform_fakes.gemini if model == GEMINI else platform_fakes.openai
    fake.script(
        ToolCall("get_weather", {"city": "Paris"}),
        Reply("Sunny in Paris."),
        credential=bound["key"],
    )
    config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[WEATHER])])
    question = types.Content(role="user", parts=[types.Part(text=asked("Weather in Paris"))])
    if streamed:
        chunks = await streamed_off_loop(sdk, model=model, contents=[question], config=config)
        calls = [call for chunk in chunks for call in chunk.function_calls or []]
        first_usage = chunks[-1].usage_metadata
    else:
        first = await off_loop(
            sdk.models.generate_content, model=model, contents=[question], config=config
        )
        calls, first_usage = first.function_calls or [], first.usage_metadata
    assert [(c.name, c.args) for c in calls] == [("get_weather", {"city": "Paris"})]
    answered = types.Part.from_function_response(name="get_weather", response={"sky": "sunny"})
    history = [
        question,
        types.Content(role="model", parts=[types.Part(function_call=calls[0])]),
        types.Content(role="user", parts=[answered]),
    ]
    second = await off_loop(
        sdk.models.generate_content, model=model, contents=history, config=config
    )
    assert second.text == "Sunny in Paris."
    sent = fake.model_requests[-1].json
    if model == QWEN:
        assert sent["tools"][0]["function"]["parameters"]["properties"]["city"]["type"] == "string"
        call_id = sent["messages"][-2]["tool_calls"][0]["id"]
        assert sent["messages"][-1] == {
            "role": "tool",
            "tool_call_id": call_id,
            "content": '{"sky":"sunny"}',
        }
    else:
        assert sent["contents"][-1]["parts"][0]["functionResponse"]["name"] == "get_weather"
    mine = await accounts_by_id(client, auth)
    expected = first_usage.total_token_count + second.usage_metadata.total_token_count
    assert mine[bound["id"]]["quota_used"] == expected


async def test_count_tokens_counts_the_prompt(client, auth, sdk):
    await account(client, auth, "qwen")
    counted = await off_loop(
        sdk.models.count_tokens, model=QWEN, contents=asked("Count these words")
    )
    assert 3 <= counted.total_tokens < 30


async def test_the_models_are_listed_as_gemini_lists_them(client, auth, service_url):
    await account(client, auth, "qwen")
    key = (await create_api_key(client, auth))["key"]
    # Under /v1 the listing is OpenAI's (GET /v1/models): Gemini's is under /v1beta.
    options = types.HttpOptions(base_url=service_url, api_version="v1beta")
    with genai.Client(api_key=key, http_options=options) as google:
        names = {model.name for model in await off_loop(lambda: list(google.models.list()))}
        one = await off_loop(google.models.get, model="qwen/qwen-plus")
        with pytest.raises(genai_errors.ClientError) as caught:
            await off_loop(google.models.get, model="qwen/no-such-model")
    assert "models/qwen/qwen-plus" in names
    assert one.name == "models/qwen/qwen-plus"
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"


# --- failures, each as the SDK's own error ---------------------------------------------------


async def test_a_bad_key_is_unauthenticated(service_url):
    options = types.HttpOptions(base_url=service_url)
    with (
        genai.Client(api_key="op-invalid", http_options=options) as google,
        pytest.raises(genai_errors.ClientError) as caught,
    ):
        await off_loop(google.models.generate_content, model=QWEN, contents=asked())
    assert caught.value.code == 401 and caught.value.status == "UNAUTHENTICATED"


async def test_a_key_in_the_query_is_read(client, auth, service_url):
    await account(client, auth, "qwen")
    key = (await create_api_key(client, auth))["key"]
    body = {"contents": [{"parts": [{"text": asked()}]}]}
    response = await client.post(f"/v1beta/models/{QWEN}:generateContent?key={key}", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["candidates"][0]["content"]["parts"] == [{"text": "Hello!"}]


async def test_an_unknown_model_is_not_found(client, auth, sdk):
    await account(client, auth, "qwen")
    with pytest.raises(genai_errors.ClientError) as caught:
        await off_loop(sdk.models.generate_content, model="no-such-model", contents=asked())
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"


async def test_an_invalid_body_is_invalid_argument(client, auth):
    key = (await create_api_key(client, auth))["key"]
    response = await client.post(
        f"/v1beta/models/{QWEN}:generateContent",
        json={"contents": []},
        headers={"x-goog-api-key": key},
    )
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


async def test_quota_exhausted_is_resource_exhausted_with_retry_after(
    client, auth, platform_fakes, sdk
):
    bound = await account(client, auth, "gemini")
    platform_fakes.gemini.script(errors.gemini_quota_exhausted(daily=True), credential=bound["key"])
    with pytest.raises(genai_errors.ClientError) as caught:
        await off_loop(sdk.models.generate_content, model=GEMINI, contents=asked())
    assert caught.value.code == 429 and caught.value.status == "RESOURCE_EXHAUSTED"
    assert int(caught.value.response.headers["retry-after"]) > 0


# The translated case on OpenAI's own wire: its stream is read event by event (the lean path),
# so the failure surely comes after the first byte of answer.
@pytest.mark.parametrize("model", ["openai/gpt-4.1-mini", GEMINI])
async def test_a_failure_mid_stream_is_an_error_event(client, auth, platform_fakes, sdk, model):
    bound = await account(client, auth, platform_of(model))
    if model == GEMINI:
        failure = errors.gemini_overloaded().mid_stream(after_chunks=2)
        platform_fakes.gemini.script(failure, credential=bound["key"])
    else:
        body = {"error": {"message": "upstream broke", "type": "server_error", "code": None}}
        platform_fakes.openai.script(MidStreamError(2, body), credential=bound["key"])
    texts: list[str] = []

    def read() -> None:
        for chunk in sdk.models.generate_content_stream(model=model, contents=asked()):
            texts.append(chunk.text or "")

    with pytest.raises(genai_errors.ServerError) as caught:
        await off_loop(read)
    assert "".join(texts) and "Partial answer".startswith("".join(texts))
    assert caught.value.status in ("UNAVAILABLE", "INTERNAL")
    mine = await accounts_by_id(client, auth)
    assert mine[bound["id"]]["quota_used"] > 0  # what was delivered is charged


async def test_googles_own_tools_on_a_translated_platform_are_refused_by_name(client, auth):
    await account(client, auth, "qwen")
    key = (await create_api_key(client, auth))["key"]
    body = {"contents": [{"parts": [{"text": asked()}]}], "tools": [{"googleSearch": {}}]}
    response = await client.post(
        f"/v1/models/{QWEN}:generateContent", json=body, headers={"x-goog-api-key": key}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and "googleSearch" in error["message"]


@pytest.mark.parametrize("model", [QWEN, GEMINI])
@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
async def test_cached_and_thought_tokens_reach_the_answer_and_the_books(
    client, auth, platform_fakes, sdk, model, streamed
):
    bound = await account(client, auth, platform_of(model))
    fake = platform_fakes.gemini if model == GEMINI else platform_fakes.openai
    fake.script(Reply("Hello there!", cached_tokens=2, reasoning_tokens=1), credential=bound["key"])
    if streamed:
        chunks = await streamed_off_loop(sdk, model=model, contents=asked())
        usage = chunks[-1].usage_metadata
    else:
        answer = await off_loop(sdk.models.generate_content, model=model, contents=asked())
        usage = answer.usage_metadata
    assert (usage.cached_content_token_count, usage.thoughts_token_count) == (2, 1)
    assert usage.candidates_token_count == 1  # "Hello there!" is 2 tokens, 1 of them thought
    rows = (await client.get("/api/v1/oauth/usage?days=2", headers=auth)).json()["data"]
    books = next(row for row in rows if row["account_id"] == bound["id"])
    assert (books["cached_tokens"], books["reasoning_tokens"]) == (2, 1)
    assert books["total_tokens"] == usage.total_token_count
