"""A chat answer as a Messages API answer: the whole message, or its stream of events.

message_start, ping
content_block_start / _delta / _stop    one block per kind in the order they come:
                                        thinking (from `reasoning_content`), text,
                                        tool_use (one per tool call, input as JSON deltas)
message_delta                           stop_reason and usage (after the books)
message_stop
error                                   a failure after the first byte
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from app.services.calls.stream_relay import Tally, note
from app.services.calls.usage import TokenUsage, chat_usage

STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


def message_id() -> str:
    return "msg_" + uuid.uuid4().hex[:24]


def usage_body(usage: TokenUsage) -> dict[str, int]:
    """Anthropic's usage: the prompt's cached tokens apart from `input_tokens`."""
    return {
        "input_tokens": usage.prompt_tokens - usage.cached_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": usage.cached_tokens,
        "output_tokens": usage.completion_tokens,
    }


def message(completion: dict[str, Any]) -> dict[str, Any]:
    """A `chat.completion` (as the call path answers) as a Messages API `message`, naming the
    model that served it."""
    choice = completion["choices"][0]
    said = choice.get("message") or {}
    content: list[dict[str, Any]] = []
    if said.get("reasoning_content"):
        content.append({"type": "thinking", "thinking": said["reasoning_content"], "signature": ""})
    if said.get("content"):
        content.append({"type": "text", "text": said["content"]})
    for call in said.get("tool_calls") or []:
        function = call.get("function") or {}
        content.append(
            {
                "type": "tool_use",
                "id": call.get("id") or _tool_id(),
                "name": function.get("name"),
                "input": _arguments(function.get("arguments")),
            }
        )
    return {
        "id": message_id(),
        "type": "message",
        "role": "assistant",
        "model": completion["model"],
        "content": content,
        "stop_reason": STOP_REASONS.get(choice.get("finish_reason") or "stop", "end_turn"),
        "stop_sequence": None,
        "usage": usage_body(chat_usage(completion.get("usage") or {})),
    }


def _arguments(raw: Any) -> Any:
    if isinstance(raw, dict):
        return raw
    try:
        parsed = orjson.loads(raw or "{}")
    except orjson.JSONDecodeError:
        return {"arguments": raw}  # the platform wrote no JSON: its words kept
    return parsed if isinstance(parsed, dict) else {"arguments": parsed}


def event(kind: str, body: dict[str, Any]) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps({"type": kind, **body}) + b"\n\n"


def error_event(message: str, code: str) -> bytes:
    kind = "overloaded_error" if code in ("overloaded", "rate_limited") else "api_error"
    return event("error", {"error": {"type": kind, "message": message}})


class MessageEvents:
    """The Messages API's stream events of one translated answer (a `StreamFormat`)."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.started = False
        self.open_kind: Any = None
        """The open content block's kind: thinking, text, or ("tool", the call's index)."""
        self.blocks = 0
        self.stop_reason = "end_turn"

    def events(self, chunk: Any, tally: Tally) -> bytes:
        note(chunk, tally)
        self.model = getattr(chunk, "model", None) or self.model  # the model that served
        out: list[bytes] = []
        self._start(out)
        for choice in getattr(chunk, "choices", None) or []:
            if choice.delta is not None:
                self._delta(choice.delta, out)
            if choice.finish_reason:
                self.stop_reason = STOP_REASONS.get(choice.finish_reason, "end_turn")
        return b"".join(out)

    def _start(self, out: list[bytes]) -> None:
        if self.started:
            return
        self.started = True
        start: dict[str, Any] = {"id": message_id(), "type": "message", "role": "assistant"}
        start |= {"model": self.model, "content": [], "stop_reason": None}
        start |= {"stop_sequence": None, "usage": usage_body(TokenUsage(0, 0))}
        out += [event("message_start", {"message": start}), event("ping", {})]

    def _delta(self, delta: Any, out: list[bytes]) -> None:
        thinking = getattr(delta, "reasoning_content", None)
        if thinking:
            self._open("thinking", {"type": "thinking", "thinking": ""}, out)
            out.append(self._delta_event({"type": "thinking_delta", "thinking": thinking}))
        text = getattr(delta, "content", None)
        if text:
            self._open("text", {"type": "text", "text": ""}, out)
            out.append(self._delta_event({"type": "text_delta", "text": text}))
        for call in getattr(delta, "tool_calls", None) or []:
            function = getattr(call, "function", None)
            kind = ("tool", getattr(call, "index", None) or 0)
            if getattr(call, "id", None) or self.open_kind != kind:
                block = {"type": "tool_use", "id": getattr(call, "id", None) or _tool_id()}
                block |= {"name": getattr(function, "name", None) or "", "input": {}}
                self._open(kind, block, out, new=True)
            arguments = getattr(function, "arguments", None)
            if arguments:
                partial = {"type": "input_json_delta", "partial_json": arguments}
                out.append(self._delta_event(partial))

    def _open(
        self, kind: Any, block: dict[str, Any], out: list[bytes], *, new: bool = False
    ) -> None:
        if self.open_kind == kind and not new:
            return
        self._close(out)
        self.open_kind = kind
        out.append(event("content_block_start", {"index": self.blocks, "content_block": block}))
        self.blocks += 1

    def _close(self, out: list[bytes]) -> None:
        if self.open_kind is not None:
            out.append(event("content_block_stop", {"index": self.blocks - 1}))
            self.open_kind = None

    def _delta_event(self, delta: dict[str, Any]) -> bytes:
        return event("content_block_delta", {"index": self.blocks - 1, "delta": delta})

    def failed(self, message: str, code: str) -> bytes:
        return error_event(message, code)

    def ended(self, tally: Tally) -> bytes:
        out: list[bytes] = []
        self._start(out)
        self._close(out)
        usage = usage_body(tally.charged or TokenUsage(0, 0))
        delta = {"stop_reason": self.stop_reason, "stop_sequence": None}
        out.append(event("message_delta", {"delta": delta, "usage": usage}))
        out.append(event("message_stop", {}))
        return b"".join(out)


def _tool_id() -> str:
    return "toolu_" + uuid.uuid4().hex[:24]
