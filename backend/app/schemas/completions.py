"""OpenAI's legacy completions body (`POST /v1/completions`): what is translated onto chat."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.chat import MAX_OUTPUT_TOKENS


class CompletionRequest(BaseModel):
    """One prompt answered as one chat turn. What chat cannot do (`echo`, `suffix`, `logprobs`,
    `best_of`, several prompts or token prompts) is refused with 400."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=160)
    prompt: str | list[str] | list[int] | list[list[int]] = ""
    max_tokens: int | None = Field(default=16, ge=1, le=MAX_OUTPUT_TOKENS)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: int | None = Field(default=None, ge=1, le=16)
    stop: str | list[str] | None = None
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    seed: int | None = Field(default=None, ge=-(2**63), le=2**63 - 1)
    user: str | None = Field(default=None, max_length=256)
    stream: bool = False
    stream_options: dict[str, bool] | None = None
    echo: bool = False
    suffix: str | None = None
    logprobs: int | None = None
    best_of: int | None = None
