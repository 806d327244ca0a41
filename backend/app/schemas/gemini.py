"""Google's Gemini API bodies (`generateContent`, `countTokens`), in the camelCase that Google's
SDKs send (snake_case, which the REST API also takes, is read too)."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


def _either(name: str, snake: str) -> Any:
    return Field(default=None, validation_alias=AliasChoices(name, snake), serialization_alias=name)


class GenerateContentRequest(BaseModel):
    """`POST /v1beta/models/{model}:generateContent` (and `:streamGenerateContent`): fields the
    service reads are checked here; others (`safetySettings`, `cachedContent`, …) go on to
    Gemini accounts as they are."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    contents: list[dict[str, Any]] = Field(min_length=1, max_length=10_000)
    system_instruction: dict[str, Any] | None = _either("systemInstruction", "system_instruction")
    tools: list[dict[str, Any]] | None = None
    tool_config: dict[str, Any] | None = _either("toolConfig", "tool_config")
    generation_config: dict[str, Any] | None = _either("generationConfig", "generation_config")

    def body(self) -> dict[str, Any]:
        """The request as Google's API takes it (camelCase)."""
        return self.model_dump(by_alias=True, exclude_none=True)


class CountTokensRequest(BaseModel):
    """`POST /v1beta/models/{model}:countTokens`: `contents`, or a whole request."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    contents: list[dict[str, Any]] | None = None
    generate_content_request: GenerateContentRequest | None = _either(
        "generateContentRequest", "generate_content_request"
    )


class GoogleError(BaseModel):
    code: int
    message: str
    status: str


class GoogleErrorOut(BaseModel):
    """Google's error shape, which its SDKs parse: every failure under /v1beta."""

    error: GoogleError
