"""OpenAI's Responses API bodies (`POST /v1/responses`), as its SDKs, the Agents SDK, the Vercel
AI SDK and Codex CLI send them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ResponsesRequest(BaseModel):
    """Fields the service reads are checked here; others (`include`, `prompt_cache_key`,
    `client_metadata`, `truncation`, …) are accepted and have no effect on a translated call."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=160)
    input: str | list[dict[str, Any]] = Field(default="", max_length=10_000)
    instructions: str | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    max_output_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    text: dict[str, Any] | None = None
    reasoning: dict[str, Any] | None = None
    metadata: dict[str, str] | None = Field(default=None, max_length=16)
    store: bool = True
    stream: bool = False
    previous_response_id: str | None = Field(default=None, max_length=80)
    user: str | None = Field(default=None, max_length=256)
    service_tier: str | None = None
