"""A chat answer as a Responses API `response`: the whole object, or its stream of events.

output items, in the order they come:   reasoning (from `reasoning_content`), message
                                        (output_text, or a refusal), function_call (one per
                                        tool call)
status                                  completed, or incomplete when the answer hit
                                        max_output_tokens / a content filter
usage                                   input/output tokens with their cached and reasoning
                                        details
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from app.schemas.responses import ResponsesRequest
from app.services.calls.usage import TokenUsage

_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def usage_body(usage: TokenUsage) -> dict[str, Any]:
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }


def chat_usage(usage: dict[str, Any]) -> TokenUsage:
    """A `chat.completion`'s usage (as the call path answers it) in the books' terms."""
    return TokenUsage(
        int(usage.get("prompt_tokens") or 0),
        int(usage.get("completion_tokens") or 0),
        int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0),
        int((usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0),
    )


@dataclass
class Shell:
    """What a response says of its request, whatever its output."""

    request: ResponsesRequest
    model: str | None = None
    """The model that served, once known (the one asked until then)."""
    id: str = field(default_factory=lambda: new_id("resp"))
    created_at: int = field(default_factory=lambda: int(time.time()))

    def body(
        self,
        status: str,
        output: list[dict[str, Any]],
        usage: TokenUsage | None,
        **more: Any,
    ) -> dict[str, Any]:
        request = self.request
        text = request.text or {"format": {"type": "text"}}
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "error": None,
            "incomplete_details": None,
            "instructions": request.instructions,
            "max_output_tokens": request.max_output_tokens,
            "model": self.model or request.model,
            "output": output,
            "parallel_tool_calls": request.parallel_tool_calls is not False,
            "previous_response_id": request.previous_response_id,
            "reasoning": {"effort": (request.reasoning or {}).get("effort"), "summary": None},
            "store": request.store,
            "temperature": request.temperature,
            "text": text,
            "tool_choice": request.tool_choice or "auto",
            "tools": request.tools or [],
            "top_p": request.top_p,
            "truncation": "disabled",
            "usage": usage_body(usage) if usage is not None else None,
            "user": request.user,
            "metadata": request.metadata or {},
            **more,
        }


def message_item(
    text: str | None, refusal: str | None, status: str = "completed"
) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if text:
        content.append(text_part(text))
    if refusal:
        content.append({"type": "refusal", "refusal": refusal})
    return {
        "id": new_id("msg"),
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def function_call_item(
    call_id: str, name: str, arguments: str, status: str = "completed"
) -> dict[str, Any]:
    return {
        "id": new_id("fc"),
        "type": "function_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }


def reasoning_item(text: str) -> dict[str, Any]:
    summary = [{"type": "summary_text", "text": text}]
    return {"id": new_id("rs"), "type": "reasoning", "summary": summary}


def finished(shell: Shell, finish_reason: str | None) -> dict[str, Any]:
    """The status (and why it is incomplete) a chat `finish_reason` means."""
    reason = _INCOMPLETE.get(finish_reason or "")
    if reason is None:
        return {"status": "completed"}
    return {"status": "incomplete", "incomplete_details": {"reason": reason}}


def response(shell: Shell, completion: dict[str, Any]) -> dict[str, Any]:
    """A `chat.completion` (as the call path answers it) as a `response`."""
    choice = completion["choices"][0]
    said = choice.get("message") or {}
    output: list[dict[str, Any]] = []
    if said.get("reasoning_content"):
        output.append(reasoning_item(said["reasoning_content"]))
    if said.get("content") or said.get("refusal"):
        output.append(message_item(said.get("content"), said.get("refusal")))
    for call in said.get("tool_calls") or []:
        function = call.get("function") or {}
        arguments = function.get("arguments") or "{}"
        output.append(function_call_item(str(call.get("id")), str(function.get("name")), arguments))
    ending = finished(shell, choice.get("finish_reason"))
    usage = chat_usage(completion.get("usage") or {})
    shell.model = completion["model"]
    more = {k: completion[k] for k in ("service_tier",) if completion.get(k)}
    body = shell.body(ending.pop("status"), output, usage, **more)
    return body | ending
