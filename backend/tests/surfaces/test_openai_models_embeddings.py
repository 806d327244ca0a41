"""The rest of OpenAI's model surface with the real `openai` SDK against the service on uvicorn:
embeddings on every kind of platform (OpenAI's `/embeddings` on the OpenAI-format fake, Google's
`batchEmbedContents` on the Gemini fake), counted in the books as chat calls are; one model by
id; legacy completions answered by chat, whole and streamed. Failures are the SDK's own errors."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest

from tests.fakes.upstream import Reply, errors
from tests.fakes.upstream.embeddings import vector
from tests.helpers.api import account, accounts_by_id, create_api_key
from tests.helpers.sdks import openai_sdk


@pytest.fixture
async def sdk(client, auth, service_url) -> AsyncIterator[openai.AsyncOpenAI]:
    key = (await create_api_key(client, auth))["key"]
    async with openai_sdk(service_url, key) as sdk:
        yield sdk


def words(count: int = 3) -> str:
    """A unique text of `count` words (the fakes count words as tokens)."""
    return " ".join(uuid.uuid4().hex[:6] for _ in range(count))


async def usage_rows(client, auth, model: str) -> list[dict[str, Any]]:
    rows = (await client.get("/api/v1/oauth/usage?days=2", headers=auth)).json()["data"]
    return [row for row in rows if row["model"] == model]


async def test_an_embedding_in_base64_as_the_sdk_asks_is_counted(client, auth, platform_fakes, sdk):
    bound = await account(client, auth, "qwen")
    text = words(3)
    answer = await sdk.embeddings.create(model="text-embedding-v4", input=text, user="user-7")
    assert answer.object == "list" and answer.model == "text-embedding-v4"
    assert [item.index for item in answer.data] == [0]
    # The SDK asked for base64 and decoded it: the platform's floats as float32.
    assert answer.data[0].embedding == pytest.approx(vector(text), abs=1e-6)
    assert (answer.usage.prompt_tokens, answer.usage.total_tokens) == (3, 3)
    sent = platform_fakes.openai.model_requests[-1]
    assert sent.path == "/compatible-mode/v1/embeddings" and sent.credential == bound["key"]
    assert sent.json == {"model": "text-embedding-v4", "input": [text], "user": "user-7"}
    assert (await accounts_by_id(client, auth))[bound["id"]]["quota_used"] == 3
    [row] = await usage_rows(client, auth, "text-embedding-v4")
    assert (row["prompt_tokens"], row["completion_tokens"], row["requests"]) == (3, 0, 1)


async def test_several_inputs_with_dimensions_as_floats(client, auth, platform_fakes, sdk):
    await account(client, auth, "zhipu")
    texts = [words(2), words(4)]
    answer = await sdk.embeddings.create(
        model="zhipu/embedding-3", input=texts, dimensions=4, encoding_format="float"
    )
    assert [item.embedding for item in answer.data] == [vector(t, 4) for t in texts]
    assert answer.usage.prompt_tokens == 6
    sent = platform_fakes.openai.model_requests[-1].json
    assert sent["dimensions"] == 4 and sent["model"] == "embedding-3"
    assert "encoding_format" not in sent  # the platform is asked for floats


async def test_token_arrays_go_to_the_platform_as_they_are(client, auth, platform_fakes, sdk):
    await account(client, auth, "openai")
    answer = await sdk.embeddings.create(
        model="openai/text-embedding-3-small", input=[[1, 2, 3], [4, 5]], encoding_format="float"
    )
    assert len(answer.data) == 2 and answer.usage.prompt_tokens == 5
    assert platform_fakes.openai.model_requests[-1].json["input"] == [[1, 2, 3], [4, 5]]


async def test_gemini_embeds_with_googles_api_and_the_service_counts(
    client, auth, platform_fakes, sdk
):
    bound = await account(client, auth, "gemini")
    texts = [words(2), words(2)]
    answer = await sdk.embeddings.create(
        model="gemini-embedding-001", input=texts, dimensions=6, encoding_format="float"
    )
    assert [item.embedding for item in answer.data] == [vector(t, 6) for t in texts]
    sent = platform_fakes.gemini.model_requests[-1]
    assert sent.path == "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    assert sent.json["requests"][1] == {
        "model": "models/gemini-embedding-001",
        "content": {"parts": [{"text": texts[1]}]},
        "outputDimensionality": 6,
    }
    counted = answer.usage.prompt_tokens
    assert counted > 0  # Google reports none: counted here
    assert (await accounts_by_id(client, auth))[bound["id"]]["quota_used"] == counted


async def test_embeddings_refused_where_they_cannot_be(client, auth, sdk):
    await account(client, auth, "claude")
    await account(client, auth, "gemini")
    with pytest.raises(openai.BadRequestError, match="no embeddings API"):
        await sdk.embeddings.create(model="claude/claude-haiku-4-5", input="hi")
    with pytest.raises(openai.BadRequestError, match="token arrays"):
        await sdk.embeddings.create(model="gemini/gemini-embedding-001", input=[1, 2])
    with pytest.raises(openai.BadRequestError, match="input"):
        await sdk.embeddings.create(model="gemini/gemini-embedding-001", input="")


async def test_a_platforms_rate_limit_on_every_account_is_a_rate_limit_error(
    client, auth, platform_fakes, sdk
):
    bound = await account(client, auth, "qwen")
    platform_fakes.openai.script(errors.dashscope_rate_limited(), credential=bound["key"])
    with pytest.raises(openai.RateLimitError) as raised:
        await sdk.embeddings.create(model="qwen/text-embedding-v4", input="hi there")
    assert int(raised.value.response.headers["retry-after"]) > 0
    rows = await usage_rows(client, auth, "text-embedding-v4")
    assert [(row["requests"], row["failures"]) for row in rows] == [(0, 1)]


async def test_models_tell_embeddings_apart_and_one_is_retrieved(client, auth, sdk):
    await account(client, auth, "qwen")
    listed = {model.id: model async for model in sdk.models.list()}
    assert listed["qwen/qwen-plus"].type == "chat"  # type: ignore[attr-defined]
    assert listed["qwen/text-embedding-v4"].type == "embedding"  # type: ignore[attr-defined]
    model = await sdk.models.retrieve("qwen/text-embedding-v4")
    assert (model.id, model.object, model.owned_by) == ("qwen/text-embedding-v4", "model", "qwen")
    assert (await sdk.models.retrieve("qwen-plus")).id == "qwen-plus"
    with pytest.raises(openai.NotFoundError) as raised:
        await sdk.models.retrieve("gpt-no-such-model")
    assert raised.value.body["code"] == "model_not_found"


async def test_a_legacy_completion_is_answered_by_chat(client, auth, platform_fakes, sdk):
    bound = await account(client, auth, "qwen")
    platform_fakes.openai.script(Reply("Paris is the capital."), credential=bound["key"])
    prompt = "The capital of France"
    answer = await sdk.completions.create(
        model="qwen/qwen-plus", prompt=prompt, max_tokens=20, stop=["\n"], user="user-7"
    )
    assert answer.object == "text_completion" and answer.id.startswith("cmpl-")
    assert answer.choices[0].text == "Paris is the capital."
    assert answer.choices[0].finish_reason == "stop"
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (4, 4)
    sent = platform_fakes.openai.model_requests[-1].json
    assert sent["messages"] == [{"role": "user", "content": prompt}]
    assert (sent["max_tokens"], sent["stop"], sent["user"]) == (20, ["\n"], "user-7")
    assert (await accounts_by_id(client, auth))[bound["id"]]["quota_used"] == 8


async def test_a_streamed_legacy_completion(client, auth, platform_fakes, sdk):
    bound = await account(client, auth, "qwen")
    platform_fakes.openai.script(Reply("One two three four"), credential=bound["key"])
    stream = await sdk.completions.create(
        model="qwen/qwen-plus",
        prompt="Count to four",
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "One two three four"
    assert all(c.object == "text_completion" for c in chunks)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 4
    assert (await accounts_by_id(client, auth))[bound["id"]]["quota_used"] == 7


async def test_what_chat_cannot_do_is_refused(client, auth, sdk):
    await account(client, auth, "qwen")
    with pytest.raises(openai.BadRequestError, match="echo"):
        await sdk.completions.create(model="qwen/qwen-plus", prompt="Hi", echo=True)
    with pytest.raises(openai.BadRequestError, match="prompt"):
        await sdk.completions.create(model="qwen/qwen-plus", prompt=["a", "b"])
