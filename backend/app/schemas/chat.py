"""Chat completion requests (OpenAI's body, plus the seed's `platform`) and their answers as
documented in the API schema."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# OpenAI's chat parameters that litellm translates for each platform. Anything else in the body
# goes to OpenAI-format platforms untouched (`extra_body`), and never into litellm's own options.
OPENAI_PARAMS = (
    "temperature",
    "top_p",
    "n",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "user",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "seed",
    "reasoning_effort",
    "modalities",
    "audio",
    "prediction",
    "service_tier",
    "web_search_options",
    "functions",
    "function_call",
)
_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
# Far above any model's output limit, far below what the quota's integers hold.
MAX_OUTPUT_TOKENS = 2**31 - 1


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat completion body."""

    model_config = ConfigDict(extra="allow")

    model: str | None = Field(
        default=None,
        max_length=160,
        description="`platform/model`, a model name, or a platform id (its default model)",
    )
    messages: list[dict[str, Any]] = Field(min_length=1, max_length=4096)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: int | None = Field(default=None, ge=1, le=16)
    stop: str | list[str] | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=MAX_OUTPUT_TOKENS)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=MAX_OUTPUT_TOKENS)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    seed: int | None = Field(default=None, ge=-(2**63), le=2**63 - 1)
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    cache: dict[str, Any] | None = Field(
        default=None,
        description='LiteLLM\'s cache controls: `{}` or `{"ttl": s}` to use the answer cache, '
        '`{"no-cache": true}` not to read it, `{"no-store": true}` not to use it at all',
    )

    @field_validator("messages")
    @classmethod
    def _roles(cls, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for index, message in enumerate(messages):
            if message.get("role") not in _ROLES:
                raise ValueError(
                    f"messages[{index}].role must be one of {', '.join(sorted(_ROLES))}"
                )
        return messages

    def litellm_params(self) -> dict[str, Any]:
        given = self.model_dump(exclude_unset=True, exclude_none=True)  # extras included
        return {name: given[name] for name in OPENAI_PARAMS if name in given}

    def extra_body(self) -> dict[str, Any]:
        reserved = {*OPENAI_PARAMS, *type(self).model_fields}
        return {k: v for k, v in (self.model_extra or {}).items() if k not in reserved}

    @property
    def wants_usage(self) -> bool:
        return bool((self.stream_options or {}).get("include_usage"))


class SeedChatRequest(ChatCompletionRequest):
    """The seed's body: OpenAI's, with the platform named apart from the model."""

    platform: str | None = Field(
        default=None, max_length=50, description="the platform id (qwen, openai, …)"
    )


class ChatMessageOut(BaseModel):
    role: str
    content: str | None
    tool_calls: list[dict[str, Any]] | None = None


class ChatChoiceOut(BaseModel):
    index: int
    message: ChatMessageOut
    finish_reason: str | None


class UsageOut(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletionOut(BaseModel):
    """OpenAI's `chat.completion`."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoiceOut]
    usage: UsageOut


class OpenAIError(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIErrorOut(BaseModel):
    """OpenAI's error shape, which its SDKs parse: every failure under /v1."""

    error: OpenAIError


class ModelOut(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    type: Literal["chat", "embedding"] = Field(
        default="chat",
        description="what the model is called by: /v1/chat/completions or /v1/embeddings",
    )


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]
