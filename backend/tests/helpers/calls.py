"""Calling models in tests: a unique message, the seed's call route, reading an event stream, and
which fake upstream serves a platform."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import orjson

KIND = {"claude": "anthropic", "gemini": "gemini"}  # the rest are on the OpenAI-format fake


def fake_of(fakes: Any, platform: str) -> Any:
    return getattr(fakes, KIND.get(platform, "openai"))


def said(text: str = "") -> list[dict[str, str]]:
    """A unique user message (so the answer cache never serves another test's call)."""
    return [{"role": "user", "content": f"{text or 'Say hello'} {uuid.uuid4().hex[:8]}"}]


async def seed_call(
    client: httpx.AsyncClient, auth: dict[str, str], platform: str, **body: Any
) -> httpx.Response:
    payload = {"platform": platform, "messages": said()} | body
    return await client.post("/api/v1/oauth/chat/completions", json=payload, headers=auth)


def sse_events(text: str) -> list[Any]:
    """The `data:` payloads of an event stream (named events' too), JSON-decoded ([DONE] kept
    as the string)."""
    events = []
    for block in text.split("\n\n"):
        for line in block.splitlines():
            if line.startswith("data: "):
                data = line[len("data: ") :]
                events.append(data if data == "[DONE]" else orjson.loads(data))
    return events


def streamed_text(events: list[Any]) -> str:
    return "".join(
        choice["delta"].get("content") or ""
        for event in events
        if isinstance(event, dict) and "choices" in event
        for choice in event["choices"]
    )
