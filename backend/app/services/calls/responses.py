"""OpenAI's wire shapes for what litellm returns: `chat.completion`, `chat.completion.chunk` as
server-sent events, and the error event that ends a stream that failed after it started.

Built field by field rather than dumped from litellm's objects, which carry provider extras
(`provider_specific_fields`, `vertex_ai_*`, a cost) that are not OpenAI's.
"""

from __future__ import annotations

from typing import Any

import orjson

from app.services.calls.usage import TokenUsage, usage_of

DONE = b"data: [DONE]\n\n"
_EXTRA_MESSAGE_FIELDS = ("reasoning_content", "refusal")
_KEPT_FIELDS = ("system_fingerprint", "service_tier")
"""What an answer and its chunks say of how they were made, kept as the platform said it."""


def served_model(reported: str | None, served: str) -> str:
    """An answer's `model`: as the platform named it (OpenAI's dated snapshot of the model
    asked, say), but the served model where litellm put its own `provider/` name instead."""
    if not reported or reported.endswith(f"/{served}"):
        return served
    return reported


def completion_body(response: Any, usage: TokenUsage, served: str) -> dict[str, Any]:
    choices = []
    for choice in response.choices:
        message = choice.message
        out: dict[str, Any] = {
            "role": getattr(message, "role", None) or "assistant",
            "content": message.content,
        }
        _copy_calls(message, out)
        entry: dict[str, Any] = {
            "index": choice.index,
            "message": out,
            "finish_reason": choice.finish_reason,
        }
        logprobs = getattr(choice, "logprobs", None)
        if logprobs is not None:
            entry["logprobs"] = _plain(logprobs)
        choices.append(entry)
    body: dict[str, Any] = {
        "id": response.id,
        "object": "chat.completion",
        "created": response.created,
        "model": served_model(response.model, served),
        "choices": choices,
        "usage": usage_body(usage),
    }
    _keep(response, body)
    return body


def _keep(source: Any, body: dict[str, Any]) -> None:
    for name in _KEPT_FIELDS:
        value = getattr(source, name, None)
        if isinstance(value, str) and value:
            body[name] = value


def chunk_body(chunk: Any, *, with_usage: bool) -> dict[str, Any] | None:
    """The chunk in OpenAI's shape; None for a usage-only chunk the caller did not ask for."""
    choices = []
    for choice in chunk.choices:
        delta = choice.delta
        out: dict[str, Any] = {}
        role = getattr(delta, "role", None)
        if role:
            out["role"] = role
        content = getattr(delta, "content", None)
        if content is not None:
            out["content"] = content
        _copy_calls(delta, out)
        entry: dict[str, Any] = {
            "index": choice.index,
            "delta": out,
            "finish_reason": choice.finish_reason,
        }
        logprobs = getattr(choice, "logprobs", None)
        if logprobs is not None:
            entry["logprobs"] = _plain(logprobs)
        choices.append(entry)
    usage = getattr(chunk, "usage", None)
    if not choices and (usage is None or not with_usage):
        return None
    body: dict[str, Any] = {
        "id": chunk.id,
        "object": "chat.completion.chunk",
        "created": chunk.created,
        "model": chunk.model,
        "choices": choices,
    }
    _keep(chunk, body)
    if usage is not None and with_usage:
        body["usage"] = usage_body(usage_of(chunk) or TokenUsage(0, 0))
    return body


def usage_chunk(last: Any, usage: TokenUsage) -> dict[str, Any]:
    """The final usage chunk OpenAI sends when asked (`stream_options.include_usage`)."""
    return {
        "id": getattr(last, "id", None),
        "object": "chat.completion.chunk",
        "created": getattr(last, "created", None),
        "model": getattr(last, "model", None),
        "choices": [],
        "usage": usage_body(usage),
    }


def carries_answer(chunk: Any) -> bool:
    """Whether the chunk holds anything of the answer (an empty role chunk does not: holding it
    back keeps failover possible until the first real byte)."""
    if getattr(chunk, "usage", None) is not None:
        return True
    for choice in chunk.choices:
        delta = choice.delta
        if choice.finish_reason or getattr(delta, "content", None):
            return True
        if getattr(delta, "tool_calls", None) or getattr(delta, "function_call", None):
            return True
        if getattr(delta, "reasoning_content", None):
            return True
    return False


def chunk_text(chunk: Any) -> str:
    return "".join(getattr(c.delta, "content", None) or "" for c in chunk.choices)


def usage_body(usage: TokenUsage) -> dict[str, Any]:
    body: dict[str, Any] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    if usage.cached_tokens or usage.reasoning_tokens:
        body["prompt_tokens_details"] = {"cached_tokens": usage.cached_tokens}
        body["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    return body


def sse(body: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(body) + b"\n\n"


def error_event(message: str, error_type: str, code: str | None) -> bytes:
    return sse({"error": {"message": message, "type": error_type, "param": None, "code": code}})


def _copy_calls(source: Any, out: dict[str, Any]) -> None:
    tool_calls = getattr(source, "tool_calls", None)
    if tool_calls:
        out["tool_calls"] = [_plain(call) for call in tool_calls]
    function_call = getattr(source, "function_call", None)
    if function_call:
        out["function_call"] = _plain(function_call)
    for name in _EXTRA_MESSAGE_FIELDS:
        value = getattr(source, name, None)
        if value:
            out[name] = value


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(exclude_none=True)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    return value
