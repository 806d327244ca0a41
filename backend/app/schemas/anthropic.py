"""Anthropic's Messages API bodies, as its SDKs and Claude Code send them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class MessagesRequest(BaseModel):
    """`POST /v1/messages`: fields the service reads are checked here; others (`context_management`,
    `output_config`, …) go on to Claude accounts as they are."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=160)
    max_tokens: int = Field(ge=1)
    messages: list[dict[str, Any]] = Field(min_length=1, max_length=10_000)
    system: str | list[dict[str, Any]] | None = None
    stream: bool = False
    temperature: float | None = Field(default=None, ge=0, le=1)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=0)
    stop_sequences: list[str] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: dict[str, Any] | None = None
    thinking: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None


class TokenCountRequest(BaseModel):
    """`POST /v1/messages/count_tokens`: a Messages request without `max_tokens`."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=160)
    messages: list[dict[str, Any]] = Field(min_length=1, max_length=10_000)
    system: str | list[dict[str, Any]] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: dict[str, Any] | None = None
    thinking: dict[str, Any] | None = None


class AnthropicError(BaseModel):
    type: str
    message: str


class AnthropicErrorOut(BaseModel):
    """Anthropic's error shape, which its SDKs parse: every failure under /v1/messages."""

    type: Literal["error"] = "error"
    error: AnthropicError


class TokenCountOut(BaseModel):
    input_tokens: int
