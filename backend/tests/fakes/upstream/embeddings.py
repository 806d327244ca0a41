"""The fakes' embeddings: OpenAI's `/embeddings` answer and Google's `batchEmbedContents`, with
vectors that depend only on the text (so a test can compute what it should get) and OpenAI's
usage counted as words, as the fakes count chat tokens."""

from __future__ import annotations

import hashlib
from typing import Any

from .behaviours import word_count

DIMENSIONS = 8
"""A vector's length when the request names no `dimensions`."""


def vector(text: str | list[int], dimensions: int | None = None) -> list[float]:
    """The fake's embedding of one input: numbers in [0, 1) from the text's SHA-256."""
    digest = hashlib.sha256(repr(text).encode()).digest()
    size = dimensions or DIMENSIONS
    return [digest[i % len(digest)] / 256 for i in range(size)]


def openai_answer(body: dict[str, Any]) -> dict[str, Any]:
    given = body.get("input")
    inputs = given if isinstance(given, list) and not _tokens(given) else [given]
    dimensions = body.get("dimensions")
    data = [
        {"object": "embedding", "index": i, "embedding": vector(item, dimensions)}
        for i, item in enumerate(inputs)
    ]
    words = sum(len(i) if isinstance(i, list) else word_count(str(i)) for i in inputs)
    usage = {"prompt_tokens": words, "total_tokens": words}
    return {"object": "list", "data": data, "model": body.get("model"), "usage": usage}


def google_answer(body: dict[str, Any]) -> dict[str, Any]:
    embeddings = []
    for request in body.get("requests") or []:
        text = "".join(p.get("text", "") for p in request["content"]["parts"])
        embeddings.append({"values": vector(text, request.get("outputDimensionality"))})
    return {"embeddings": embeddings}


def _tokens(value: list[Any]) -> bool:
    return bool(value) and all(isinstance(item, int) for item in value)
