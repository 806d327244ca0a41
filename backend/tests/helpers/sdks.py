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
