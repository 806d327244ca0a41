"""Anthropic's Node SDK (`@anthropic-ai/sdk`, installed by tests/clients/node.py) against the
service on uvicorn: a message, a streamed tool call, a token count and a refused key, from a
translated platform (the OpenAI-format fake, as Qwen); the books count its calls."""

from __future__ import annotations

from tests.clients.node import run_script
from tests.fakes.upstream import Reply, ToolCall
from tests.helpers.api import account, accounts_by_id, create_api_key


async def test_the_node_sdk_gets_messages_tools_and_errors(
    client,
    auth,
    platform_fakes,
    service_url,
):
    bound = await account(client, auth, "qwen")
    key = (await create_api_key(client, auth))["key"]
    platform_fakes.openai.script(
        Reply(),
        ToolCall("get_weather", {"city": "Paris"}, id="toolu_node_1"),
        credential=bound["key"],
    )
    seen = await run_script(
        "anthropic_sdk.mjs", {"BASE_URL": service_url, "API_KEY": key, "MODEL": "qwen/qwen-plus"}
    )
    assert seen["text"] == "Hello!"
    assert seen["usage"]["input_tokens"] == 3 and seen["usage"]["output_tokens"] == 1
    assert seen["kinds"][0] == "message_start" and seen["kinds"][-1] == "message_stop"
    assert "content_block_delta" in seen["kinds"]
    assert seen["tool"] == {
        "type": "tool_use",
        "id": "toolu_node_1",
        "name": "get_weather",
        "input": {"city": "Paris"},
    }
    assert seen["stopReason"] == "tool_use"
    assert 3 <= seen["counted"] < 30
    assert seen["refused"] == {
        "authentication": True,
        "status": 401,
        "type": "authentication_error",
    }
    streamed = seen["streamedUsage"]
    mine = await accounts_by_id(client, auth)
    assert (
        mine[bound["id"]]["quota_used"] == 4 + streamed["input_tokens"] + streamed["output_tokens"]
    )
