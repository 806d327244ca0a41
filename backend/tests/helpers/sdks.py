"""The official SDKs' async clients on a running service (the `service_url` fixture). Tests await
them rather than use the blocking clients: the service shares the test's SQLite file, and a call
that blocks the test's event loop could stall a write that loop has under way until the
service's busy timeout runs out."""

from __future__ import annotations

import anthropic
import openai


def openai_sdk(service_url: str, key: str) -> openai.AsyncOpenAI:
    """OpenAI's client on the service's `/v1`, retries off: each answer reaches the test as sent."""
    return openai.AsyncOpenAI(base_url=service_url + "/v1", api_key=key, max_retries=0)


def anthropic_sdk(service_url: str, key: str) -> anthropic.AsyncAnthropic:
    """Anthropic's client on the service, retries off: each answer reaches the test as sent."""
    return anthropic.AsyncAnthropic(base_url=service_url, api_key=key, max_retries=0)


# A function tool in the Responses API's shape, for the tests of tool calls.
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
