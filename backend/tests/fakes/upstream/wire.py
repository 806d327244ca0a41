"""The three wire formats the eight platforms speak: bodies, stream events, model lists.

Shapes follow docs/platforms.md §3. A wire format only renders; deciding what to send (which
behaviour, how many chunks, when to stop) is the app's job, so each format stays a short,
readable statement of what the vendor puts on the wire.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .behaviours import ToolCall


def dumps(obj: Any) -> bytes:
    """Compact JSON as vendors send it (non-ASCII kept, as Zhipu's Chinese messages are)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Turn:
    """Everything a wire format needs to render one answer."""

    model: str
    id: str
    created: int
    prompt_tokens: int
    completion_tokens: int
    include_usage: bool = False  # OpenAI stream_options.include_usage
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    extras: Any = None
    refusal: str | None = None
    """OpenAI wire: more top-level fields of the answer and each chunk."""

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Wire(Protocol):
    """One vendor wire format; `preamble + chunk* + finish` is a complete stream."""

    def response(self, turn: Turn, text: str) -> dict[str, Any]: ...
    def preamble(self, turn: Turn) -> list[bytes]: ...
    def chunk(self, turn: Turn, piece: str, *, last: bool) -> bytes: ...
    def finish(self, turn: Turn) -> list[bytes]: ...
    def error_event(self, body: dict[str, Any]) -> bytes: ...
    def models(self, ids: Sequence[str]) -> dict[str, Any]: ...
    def tool_call(self, turn: Turn, call: ToolCall) -> dict[str, Any]: ...
    def tool_call_stream(self, turn: Turn, call: ToolCall) -> list[bytes]: ...


def _halves(call: ToolCall) -> list[str]:
    """The tool call's arguments as JSON, in the two pieces a stream sends them in."""
    text = dumps(dict(call.arguments)).decode()
    return [text[: len(text) // 2], text[len(text) // 2 :]]


class OpenAIWire:
    """OpenAI chat completions (OpenAI, DashScope, Qianfan v2, Zhipu, Spark, Ark)."""

    @staticmethod
    def _event(obj: Any) -> bytes:
        return b"data: " + dumps(obj) + b"\n\n"

    def _chunk_obj(self, turn: Turn, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {
            "id": turn.id,
            "object": "chat.completion.chunk",
            "created": turn.created,
            "model": turn.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **(turn.extras or {}),
        }

    def _usage(self, turn: Turn) -> dict[str, Any]:
        usage: dict[str, Any] = {
            "prompt_tokens": turn.prompt_tokens,
            "completion_tokens": turn.completion_tokens,
            "total_tokens": turn.total_tokens,
        }
        if turn.cached_tokens or turn.reasoning_tokens:
            usage["prompt_tokens_details"] = {"cached_tokens": turn.cached_tokens}
            usage["completion_tokens_details"] = {"reasoning_tokens": turn.reasoning_tokens}
        return usage

    def response(self, turn: Turn, text: str) -> dict[str, Any]:
        return {
            "id": turn.id,
            "object": "chat.completion",
            "created": turn.created,
            "model": turn.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": None, "refusal": turn.refusal}
                    if turn.refusal
                    else {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": self._usage(turn),
            **(turn.extras or {}),
        }

    def preamble(self, turn: Turn) -> list[bytes]:
        return [self._event(self._chunk_obj(turn, {"role": "assistant", "content": ""}, None))]

    def chunk(self, turn: Turn, piece: str, *, last: bool) -> bytes:
        return self._event(self._chunk_obj(turn, {"content": piece}, None))

    def finish(self, turn: Turn) -> list[bytes]:
        # litellm raises on a stream in which no chunk carries finish_reason, even after [DONE].
        events = [self._event(self._chunk_obj(turn, {}, "stop"))]
        if turn.include_usage:
            usage_chunk = self._chunk_obj(turn, {}, None) | {
                "choices": [],
                "usage": self._usage(turn),
            }
            events.append(self._event(usage_chunk))
        events.append(b"data: [DONE]\n\n")
        return events

    def error_event(self, body: dict[str, Any]) -> bytes:
        return self._event(body)

    def tool_call(self, turn: Turn, call: ToolCall) -> dict[str, Any]:
        asked = {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": "".join(_halves(call))},
        }
        message = {"role": "assistant", "content": None, "tool_calls": [asked]}
        body = self.response(turn, "")
        body["choices"] = [{"index": 0, "message": message, "finish_reason": "tool_calls"}]
        return body

    def tool_call_stream(self, turn: Turn, call: ToolCall) -> list[bytes]:
        first, second = _halves(call)
        start = {"index": 0, "id": call.id, "type": "function"}
        start["function"] = {"name": call.name, "arguments": first}
        rest = {"index": 0, "function": {"arguments": second}}
        events = [
            *self.preamble(turn),
            self._event(self._chunk_obj(turn, {"tool_calls": [start]}, None)),
            self._event(self._chunk_obj(turn, {"tool_calls": [rest]}, None)),
        ]
        finish = self.finish(turn)
        finish[0] = self._event(self._chunk_obj(turn, {}, "tool_calls"))
        return events + finish

    def models(self, ids: Sequence[str]) -> dict[str, Any]:
        data = [
            {"id": i, "object": "model", "created": 1744318173, "owned_by": "system"} for i in ids
        ]
        return {"object": "list", "data": data}


class AnthropicWire:
    """Anthropic Messages API."""

    @staticmethod
    def _event(kind: str, obj: dict[str, Any]) -> bytes:
        return b"event: " + kind.encode() + b"\ndata: " + dumps(obj) + b"\n\n"

    @staticmethod
    def _usage(turn: Turn, output_tokens: int) -> dict[str, int]:
        # Anthropic counts the prompt's cached tokens apart from `input_tokens`.
        return {
            "input_tokens": turn.prompt_tokens - turn.cached_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": turn.cached_tokens,
            "output_tokens": output_tokens,
        }

    def _message(
        self, turn: Turn, content: list[dict[str, Any]], output_tokens: int
    ) -> dict[str, Any]:
        return {
            "id": turn.id,
            "type": "message",
            "role": "assistant",
            "model": turn.model,
            "content": content,
            "stop_reason": "end_turn" if content else None,
            "stop_sequence": None,
            "usage": self._usage(turn, output_tokens),
        }

    def response(self, turn: Turn, text: str) -> dict[str, Any]:
        return self._message(turn, [{"type": "text", "text": text}], turn.completion_tokens)

    def preamble(self, turn: Turn) -> list[bytes]:
        # Anthropic reports output_tokens=1 in message_start and the real count in message_delta.
        return [
            self._event(
                "message_start", {"type": "message_start", "message": self._message(turn, [], 1)}
            ),
            self._event(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            ),
            self._event("ping", {"type": "ping"}),
        ]

    def chunk(self, turn: Turn, piece: str, *, last: bool) -> bytes:
        delta = {"type": "text_delta", "text": piece}
        return self._event(
            "content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}
        )

    def finish(self, turn: Turn) -> list[bytes]:
        return [
            self._event("content_block_stop", {"type": "content_block_stop", "index": 0}),
            self._event(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": turn.completion_tokens},
                },
            ),
            self._event("message_stop", {"type": "message_stop"}),
        ]

    def error_event(self, body: dict[str, Any]) -> bytes:
        return self._event("error", body)

    def _tool_use(self, call: ToolCall, arguments: dict[str, Any]) -> dict[str, Any]:
        return {"type": "tool_use", "id": call.id, "name": call.name, "input": arguments}

    def tool_call(self, turn: Turn, call: ToolCall) -> dict[str, Any]:
        content = [self._tool_use(call, dict(call.arguments))]
        return self._message(turn, content, turn.completion_tokens) | {"stop_reason": "tool_use"}

    def tool_call_stream(self, turn: Turn, call: ToolCall) -> list[bytes]:
        start = {"type": "content_block_start", "index": 0}
        start["content_block"] = self._tool_use(call, {})
        deltas = [
            self._event(
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "input_json_delta", "partial_json": piece},
                },
            )
            for piece in _halves(call)
        ]
        finish = self.finish(turn)
        finish[1] = finish[1].replace(b'"end_turn"', b'"tool_use"')
        return [self.preamble(turn)[0], self._event("content_block_start", start), *deltas, *finish]

    def models(self, ids: Sequence[str]) -> dict[str, Any]:
        data = [
            {"type": "model", "id": i, "display_name": i, "created_at": "2025-09-29T00:00:00Z"}
            for i in ids
        ]
        return {
            "data": data,
            "has_more": False,
            "first_id": ids[0] if ids else None,
            "last_id": ids[-1] if ids else None,
        }


class GeminiWire:
    """Gemini generateContent / streamGenerateContent?alt=sse (every chunk a full response)."""

    @staticmethod
    def _event(obj: dict[str, Any]) -> bytes:
        return b"data: " + dumps(obj) + b"\r\n\r\n"

    def _candidate(self, text: str, finish: bool) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}}
        if finish:
            candidate["finishReason"] = "STOP"
        candidate["index"] = 0
        return candidate

    def _object(self, turn: Turn, text: str, *, finish: bool) -> dict[str, Any]:
        # Like Gemini, intermediate chunks carry only the prompt count; the last one has it all.
        usage: dict[str, int] = {"promptTokenCount": turn.prompt_tokens}
        if finish:  # Gemini counts the thoughts apart from the candidates' tokens
            usage["candidatesTokenCount"] = turn.completion_tokens - turn.reasoning_tokens
            if turn.reasoning_tokens:
                usage["thoughtsTokenCount"] = turn.reasoning_tokens
        if turn.cached_tokens:
            usage["cachedContentTokenCount"] = turn.cached_tokens
        usage["totalTokenCount"] = turn.total_tokens if finish else turn.prompt_tokens
        return {
            "candidates": [self._candidate(text, finish)],
            "usageMetadata": usage,
            "modelVersion": turn.model,
            "responseId": turn.id,
        }

    def response(self, turn: Turn, text: str) -> dict[str, Any]:
        return self._object(turn, text, finish=True)

    def preamble(self, turn: Turn) -> list[bytes]:
        return []

    def chunk(self, turn: Turn, piece: str, *, last: bool) -> bytes:
        return self._event(self._object(turn, piece, finish=last))

    def finish(self, turn: Turn) -> list[bytes]:
        return []

    def error_event(self, body: dict[str, Any]) -> bytes:
        return self._event(body)

    def tool_call(self, turn: Turn, call: ToolCall) -> dict[str, Any]:
        body = self._object(turn, "", finish=True)
        asked = {"name": call.name, "args": dict(call.arguments)}
        body["candidates"][0]["content"]["parts"] = [{"functionCall": asked}]
        return body

    def tool_call_stream(self, turn: Turn, call: ToolCall) -> list[bytes]:
        # Gemini streams a function call whole, in one chunk.
        return [self._event(self.tool_call(turn, call))]

    def models(self, ids: Sequence[str]) -> dict[str, Any]:
        data = [
            {
                "name": f"models/{i}",
                "version": "001",
                "displayName": i,
                "inputTokenLimit": 1048576,
                "outputTokenLimit": 65536,
                "supportedGenerationMethods": ["generateContent", "countTokens"],
            }
            for i in ids
        ]
        return {"models": data}
