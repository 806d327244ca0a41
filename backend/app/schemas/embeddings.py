"""OpenAI's embeddings body (`POST /v1/embeddings`), as its SDKs send it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Tokens = list[int]


class EmbeddingsRequest(BaseModel):
    """`input`: a string, a list of strings, a list of tokens or a list of token lists (as
    OpenAI's API, at most 2048 inputs). Other fields go on to the platform as they are."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=160)
    input: str | list[str] | Tokens | list[Tokens] = Field(min_length=1)
    dimensions: int | None = Field(default=None, ge=1, le=65_536)
    encoding_format: Literal["float", "base64"] = "float"
    user: str | None = Field(default=None, max_length=256)
