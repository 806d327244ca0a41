"""OpenAI's Responses API (`POST /v1/responses`) as the fake renders it, for OpenAI accounts:
the whole `response`, or its events with `sequence_number`s. A stream's last events repeat its
text, so the wire keeps each answer's pieces by its id until the answer ends."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .wire import OpenAIWire, Turn, dumps

if TYPE_CHECKING:
    from .behaviours import ToolCall


class ResponsesWire:
    def __init__(self) -> None:
        self._said: dict[str, list[str]] = {}
        self._numbers: dict[str, int] = {}

    def _event(self, turn: Turn, kind: str, body: dict[str, Any]) -> bytes:
        number = self._numbers.get(turn.id, 0)
        self._numbers[turn.id] = number + 1
        data = {"type": kind, "sequence_number": number, **body}
        return b"event: " + kind.encode() + b"\ndata: " + dumps(data) + b"\n\n"

    def _response(self, turn: Turn, output: list[dict[str, Any]], status: str) -> dict[str, Any]:
        usage = {
            "input_tokens": turn.prompt_tokens,
            "input_tokens_details": {"cached_tokens": turn.cached_tokens},
            "output_tokens": turn.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": turn.reasoning_tokens},
            "total_tokens": turn.total_tokens,
        }
        return {
            "id": "resp_" + turn.id,
            "object": "response",
            "created_at": turn.created,
            "status": status,
            "model": turn.model,
            "output": output,
            "usage": usage if status == "completed" else None,
            "error": None,
        }

    @staticmethod
    def _message(turn: Turn, text: str) -> dict[str, Any]:
        part = {"type": "output_text", "text": text, "annotations": []}
        return {"id": "msg_" + turn.id, "type": "message", "status": "completed",
                "role": "assistant", "content": [part]}  # fmt: skip

    def response(self, turn: Turn, text: str) -> dict[str, Any]:
        return self._response(turn, [self._message(turn, text)], "completed")

    def _created(self, turn: Turn) -> bytes:
        return self._event(
            turn, "response.created", {"response": self._response(turn, [], "in_progress")}
        )

    def preamble(self, turn: Turn) -> list[bytes]:
        self._said[turn.id] = []
        at = {"item_id": "msg_" + turn.id, "output_index": 0, "content_index": 0}
        item = self._message(turn, "") | {"status": "in_progress", "content": []}
        part = {"type": "output_text", "text": "", "annotations": []}
        return [
            self._created(turn),
            self._event(turn, "response.output_item.added", {"output_index": 0, "item": item}),
            self._event(turn, "response.content_part.added", at | {"part": part}),
        ]  # fmt: skip

    def chunk(self, turn: Turn, piece: str, *, last: bool) -> bytes:
        self._said.setdefault(turn.id, []).append(piece)
        at = {"item_id": "msg_" + turn.id, "output_index": 0, "content_index": 0}
        return self._event(turn, "response.output_text.delta", at | {"delta": piece})

    def finish(self, turn: Turn) -> list[bytes]:
        text = "".join(self._said.pop(turn.id, []))
        at = {"item_id": "msg_" + turn.id, "output_index": 0, "content_index": 0}
        message = self._message(turn, text)
        done = self._response(turn, [message], "completed")
        return [
            self._event(turn, "response.output_text.done", at | {"text": text}),
            self._event(turn, "response.output_item.done", {"output_index": 0, "item": message}),
            self._event(turn, "response.completed", {"response": done}),
        ]

    def error_event(self, body: dict[str, Any]) -> bytes:
        error = body.get("error") or {}
        data = {"type": "error", "code": error.get("code"), "message": error.get("message")}
        return b"event: error\ndata: " + dumps(data | {"param": None}) + b"\n\n"

    def models(self, ids: Sequence[str]) -> dict[str, Any]:
        return OpenAIWire().models(ids)

    @staticmethod
    def _function_call(call: ToolCall, arguments: str) -> dict[str, Any]:
        return {"id": "fc_" + call.id, "type": "function_call", "status": "completed",
                "call_id": call.id, "name": call.name, "arguments": arguments}  # fmt: skip

    def tool_call(self, turn: Turn, call: ToolCall) -> dict[str, Any]:
        item = self._function_call(call, json.dumps(dict(call.arguments), separators=(",", ":")))
        return self._response(turn, [item], "completed")

    def tool_call_stream(self, turn: Turn, call: ToolCall) -> list[bytes]:
        arguments = json.dumps(dict(call.arguments), separators=(",", ":"))
        halves = [arguments[: len(arguments) // 2], arguments[len(arguments) // 2 :]]
        at = {"item_id": "fc_" + call.id, "output_index": 0}
        item = self._function_call(call, arguments)
        opened = item | {"arguments": "", "status": "in_progress"}
        delta, done = (
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
        )
        return [
            self._created(turn),
            self._event(turn, "response.output_item.added", {"output_index": 0, "item": opened}),
            *(self._event(turn, delta, at | {"delta": half}) for half in halves),
            self._event(turn, done, at | {"arguments": arguments}),
            self._event(turn, "response.output_item.done", {"output_index": 0, "item": item}),
            self._event(turn, "response.completed",
                        {"response": self._response(turn, [item], "completed")}),
        ]  # fmt: skip
