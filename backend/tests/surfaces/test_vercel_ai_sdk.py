"""The Vercel AI SDK (`ai` with `@ai-sdk/openai`, installed by tests/clients/node.py): its default
`openai(model)` provider speaks the Responses API. generateText, and streamText with a tool the
SDK runs and whose result goes back, against a translated platform (the OpenAI-format fake, as
Qwen); a refused key; the books count its calls."""

from __future__ import annotations

from tests.clients.node import run_script
from tests.fakes.upstream import Reply, ToolCall
from tests.helpers.api import account, accounts_by_id, create_api_key


async def test_the_vercel_ai_sdk_generates_streams_and_runs_a_tool(
    client, auth, platform_fakes, service_url
):
    bound = await account(client, auth, "qwen")
    key = (await create_api_key(client, auth))["key"]
    platform_fakes.openai.script(
        Reply(),
        ToolCall("get_weather", {"city": "Paris"}, id="call_vercel_1"),
        Reply("Sunny in Paris."),
        credential=bound["key"],
    )
    seen = await run_script(
        "vercel_ai_sdk.mjs",
        {"BASE_URL": service_url + "/v1", "API_KEY": key, "MODEL": "qwen/qwen-plus"},
    )
    assert seen["text"] == "Hello!"
    assert (seen["usage"]["inputTokens"], seen["usage"]["outputTokens"]) == (3, 1)
    assert seen["asked"] == ["Paris"]  # the SDK ran the tool the platform asked for
    assert seen["streamedText"] == "Sunny in Paris." and seen["steps"] == 2
    assert {"tool-call", "tool-result", "text-delta", "finish"} <= set(seen["parts"])
    assert seen["refused"] == {"status": 401, "name": "AI_APICallError"}

    sent = platform_fakes.openai.model_requests[-1].json
    assert sent["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "call_vercel_1",
        "content": sent["messages"][-1]["content"],
    }
    assert "sunny in Paris" in sent["messages"][-1]["content"]
    streamed = seen["streamedUsage"]
    mine = await accounts_by_id(client, auth)
    assert mine[bound["id"]]["quota_used"] == (
        4 + streamed["inputTokens"] + streamed["outputTokens"]
    )
