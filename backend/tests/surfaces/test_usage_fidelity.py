"""What platforms report beyond prompt and completion tokens — cached and reasoning tokens,
`service_tier`, `system_fingerprint` — reaches the caller on chat completions (the lean path for
OpenAI, litellm for Qwen) and on the Responses API, and the cached and reasoning tokens reach the
usage books in their own columns; `user` reaches the platform on both paths."""

from __future__ import annotations

import uuid

import pytest

from tests.fakes.upstream import Reply
from tests.helpers.api import account, create_api_key
from tests.helpers.sdks import openai_sdk

DETAILED = Reply(
    "Hello there!",
    cached_tokens=2,
    reasoning_tokens=1,
    extras={"service_tier": "default", "system_fingerprint": "fp_fake_7"},
)


async def _books(client, auth, account_id: int) -> dict:
    rows = (await client.get("/api/v1/oauth/usage?days=2", headers=auth)).json()["data"]
    return next(row for row in rows if row["account_id"] == account_id)


@pytest.mark.parametrize("model", ["openai/gpt-4.1-mini", "qwen/qwen-plus"])
@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
async def test_chat_completions_keep_what_the_platform_reported(
    client,
    auth,
    platform_fakes,
    service_url,
    model,
    streamed,
):
    bound = await account(client, auth, model.split("/")[0])
    platform_fakes.openai.script(DETAILED, credential=bound["key"])
    key = (await create_api_key(client, auth))["key"]
    asked = [{"role": "user", "content": f"Say hello {uuid.uuid4().hex[:8]}"}]
    async with openai_sdk(service_url, key) as sdk:
        if streamed:
            stream = await sdk.chat.completions.create(
                model=model,
                messages=asked,
                user="user-7",
                stream=True,
                stream_options={"include_usage": True},
            )
            chunks = [chunk async for chunk in stream]
            usage, first = chunks[-1].usage, chunks[0]
        else:
            first = await sdk.chat.completions.create(model=model, messages=asked, user="user-7")
            usage = first.usage
    assert usage.prompt_tokens_details.cached_tokens == 2
    assert usage.completion_tokens_details.reasoning_tokens == 1
    assert first.system_fingerprint == "fp_fake_7" and first.service_tier == "default"
    assert platform_fakes.openai.model_requests[-1].json["user"] == "user-7"
    books = await _books(client, auth, bound["id"])
    assert (books["cached_tokens"], books["reasoning_tokens"]) == (2, 1)


async def test_a_response_carries_the_cached_and_reasoning_tokens(
    client,
    auth,
    platform_fakes,
    service_url,
):
    bound = await account(client, auth, "qwen")
    platform_fakes.openai.script(DETAILED, DETAILED, credential=bound["key"])
    key = (await create_api_key(client, auth))["key"]
    async with openai_sdk(service_url, key) as sdk:
        whole = await sdk.responses.create(model="qwen/qwen-plus", input="Say hello")
        again = sdk.responses.stream(model="qwen/qwen-plus", input="Say hello again")
        async with again as stream:
            streamed = await stream.get_final_response()
    for answer in (whole, streamed):
        assert answer.usage.input_tokens_details.cached_tokens == 2
        assert answer.usage.output_tokens_details.reasoning_tokens == 1
    assert whole.service_tier == "default"
    books = await _books(client, auth, bound["id"])
    assert (books["cached_tokens"], books["reasoning_tokens"]) == (4, 2)


@pytest.mark.parametrize("model", ["openai/gpt-4.1-mini", "qwen/qwen-plus"])
async def test_a_refusal_reaches_the_caller(client, auth, platform_fakes, service_url, model):
    bound = await account(client, auth, model.split("/")[0])
    refused = Reply(refusal="I can't help with that.")
    platform_fakes.openai.script(refused, refused, credential=bound["key"])
    key = (await create_api_key(client, auth))["key"]
    asked = [{"role": "user", "content": f"Do something bad {uuid.uuid4().hex[:8]}"}]
    async with openai_sdk(service_url, key) as sdk:
        answer = await sdk.chat.completions.create(model=model, messages=asked)
        assert answer.choices[0].message.refusal == "I can't help with that."
        assert answer.choices[0].message.content is None
        if model.startswith("qwen"):  # translated: the Responses API's refusal part
            response = await sdk.responses.create(model=model, input="Do something bad")
            assert response.output[0].content[0].type == "refusal"
            assert response.output[0].content[0].refusal == "I can't help with that."
