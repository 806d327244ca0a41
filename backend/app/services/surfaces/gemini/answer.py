"""A chat answer as a generateContent answer: the whole response, or its stream (each event a
`GenerateContentResponse` with the new parts; function calls, the finish reason and the usage
come whole in the last)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from app.services.calls.stream_relay import Tally, note
from app.services.calls.usage import TokenUsage, chat_usage

FINISH_REASONS = {
    "stop": "STOP",
    "length": "MAX_TOKENS",
    "tool_calls": "STOP",
    "function_call": "STOP",
    "content_filter": "SAFETY",
}


def usage_metadata(usage: TokenUsage) -> dict[str, int]:
    """Google's usage: the thoughts apart from the candidates' tokens."""
    metadata = {
        "promptTokenCount": usage.prompt_tokens,
        "candidatesTokenCount": usage.completion_tokens - usage.reasoning_tokens,
        "totalTokenCount": usage.total_tokens,
    }
    if usage.cached_tokens:
        metadata["cachedContentTokenCount"] = usage.cached_tokens
    if usage.reasoning_tokens:
        metadata["thoughtsTokenCount"] = usage.reasoning_tokens
    return metadata


def response(completion: dict[str, Any]) -> dict[str, Any]:
    """A `chat.completion` (as the call path answers) as a `GenerateContentResponse`, naming the
    model that served it."""
    candidates = []
    for choice in completion["choices"]:
        said = choice.get("message") or {}
        parts = _parts(said.get("reasoning_content"), said.get("content"), said.get("tool_calls"))
        candidates.append(
            {
                "content": {"role": "model", "parts": parts},
                "finishReason": FINISH_REASONS.get(choice.get("finish_reason") or "stop", "OTHER"),
                "index": choice.get("index", 0),
            }
        )
    return {
        "candidates": candidates,
        "usageMetadata": usage_metadata(chat_usage(completion.get("usage") or {})),
        "modelVersion": completion["model"],
        "responseId": uuid.uuid4().hex[:22],
    }


def _parts(thought: Any, text: Any, calls: Any) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    if thought:
        parts.append({"text": thought, "thought": True})
    if text:
        parts.append({"text": text})
    for call in calls or []:
        function = call.get("function") or {}
        asked = {"name": function.get("name"), "args": _arguments(function.get("arguments"))}
        if call.get("id"):
            asked["id"] = call["id"]
        parts.append({"functionCall": asked})
    return parts


def _arguments(raw: Any) -> Any:
    try:
        parsed = orjson.loads(raw or "{}")
    except orjson.JSONDecodeError:
        return {"arguments": raw}
    return parsed if isinstance(parsed, dict) else {"arguments": parsed}


def sse(body: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(body) + b"\r\n\r\n"


def error_event(message: str, code: str) -> bytes:
    status = "UNAVAILABLE" if code in ("overloaded", "network") else "INTERNAL"
    return sse({"error": {"code": 503 if status == "UNAVAILABLE" else 500, "message": message,
                          "status": status}})  # fmt: skip


class ContentEvents:
    """The generateContent stream of one translated answer (a `StreamFormat`)."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.response_id = uuid.uuid4().hex[:22]
        self.calls: dict[int, dict[str, Any]] = {}
        self.finish = "STOP"

    def _event(self, parts: list[dict[str, Any]], **extra: Any) -> bytes:
        candidate = {"content": {"role": "model", "parts": parts}, "index": 0}
        body = {"candidates": [candidate | extra.pop("candidate", {})], **extra}
        return sse(body | {"modelVersion": self.model, "responseId": self.response_id})

    def events(self, chunk: Any, tally: Tally) -> bytes:
        note(chunk, tally)
        self.model = getattr(chunk, "model", None) or self.model  # the model that served
        out: list[bytes] = []
        for choice in getattr(chunk, "choices", None) or []:
            delta = choice.delta
            if choice.finish_reason:
                self.finish = FINISH_REASONS.get(choice.finish_reason, "OTHER")
            if delta is None:
                continue
            for call in getattr(delta, "tool_calls", None) or []:
                self._collect(call)
            parts = _parts(getattr(delta, "reasoning_content", None), delta.content, None)
            if parts:
                out.append(self._event(parts))
        return b"".join(out)

    def _collect(self, call: Any) -> None:
        """Function calls come whole in Gemini's stream: their pieces are put together."""
        index = getattr(call, "index", None) or 0
        held = self.calls.setdefault(index, {"id": None, "name": "", "arguments": ""})
        function = getattr(call, "function", None)
        held["id"] = getattr(call, "id", None) or held["id"]
        held["name"] += getattr(function, "name", None) or ""
        held["arguments"] += getattr(function, "arguments", None) or ""

    def failed(self, message: str, code: str) -> bytes:
        return error_event(message, code)

    def ended(self, tally: Tally) -> bytes:
        calls = [
            {"id": c["id"], "function": {"name": c["name"], "arguments": c["arguments"]}}
            for _, c in sorted(self.calls.items())
        ]
        usage = usage_metadata(tally.charged or TokenUsage(0, 0))
        candidate = {"finishReason": self.finish}
        return self._event(_parts(None, None, calls), candidate=candidate, usageMetadata=usage)
