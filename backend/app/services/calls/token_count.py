"""Tokens counted here, with litellm's tokenizers, for a call whose platform reported none (its
books) and for the APIs that count a prompt without calling (Anthropic's `count_tokens`, Gemini's
`countTokens`)."""

from __future__ import annotations

from typing import Any

import anyio

from app.core.llm import LLM
from app.services.calls.usage import TokenUsage


async def count(
    llm: LLM, model: str, messages: list[dict[str, Any]], completion: str
) -> TokenUsage:
    """The prompt's and the answer's tokens for `model` ("provider/model" where litellm needs
    the provider to pick the tokenizer), off the event loop: tokenizing is CPU work."""
    litellm = await llm.module()

    def tokens() -> TokenUsage:
        try:
            prompt = litellm.token_counter(model=model, messages=messages)
            answer = (
                litellm.token_counter(model=model, text=completion, count_response_tokens=True)
                if completion
                else 0
            )
        except Exception:  # an unknown tokenizer must not fail a call that succeeded
            text = " ".join(str(m.get("content") or "") for m in messages)
            return TokenUsage(max(1, len(text) // 4), len(completion) // 4)
        return TokenUsage(int(prompt), int(answer))

    return await anyio.to_thread.run_sync(tokens)
