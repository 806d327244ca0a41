"""A chat stream as the Responses API's events, each with its `sequence_number`.

response.created, response.in_progress                          first
response.output_item.added                                      an item opens: message,
  response.content_part.added                                   function_call or reasoning
  response.output_text.delta …                                  (message)
  response.function_call_arguments.delta …                      (function_call)
  response.output_text.done, response.content_part.done         an item closes
  response.function_call_arguments.done
response.output_item.done
response.completed (or .incomplete) with usage                  after the books
response.failed                                                 a failure after the first byte
"""

from __future__ import annotations

from typing import Any

import orjson

from app.services.calls.stream_relay import Tally, note
from app.services.calls.usage import TokenUsage
from app.services.surfaces.responses.answer import (
    Shell,
    finished,
    function_call_item,
    message_item,
    reasoning_item,
    text_part,
)

_FAILURE_CODES = {"rate_limited": "rate_limit_exceeded", "quota_exhausted": "rate_limit_exceeded"}


def failure(message: str, kind: str) -> dict[str, str]:
    """A `response.failed`'s error: the failure's class as one of OpenAI's error codes."""
    return {"code": _FAILURE_CODES.get(kind, "server_error"), "message": message}


class ResponseEvents:
    """The events of one translated answer (a `StreamFormat`); `final` is the whole response
    once the stream has ended."""

    def __init__(self, shell: Shell) -> None:
        self.shell = shell
        self.sequence = 0
        self.output: list[dict[str, Any]] = []
        self.open: dict[str, Any] | None = None
        """The item being streamed, with the text or arguments so far."""
        self.open_key: Any = None
        self.finish_reason: str | None = None
        self.final: dict[str, Any] | None = None

    def event(self, kind: str, body: dict[str, Any]) -> bytes:
        data = {"type": kind, "sequence_number": self.sequence, **body}
        self.sequence += 1
        return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"

    def events(self, chunk: Any, tally: Tally) -> bytes:
        note(chunk, tally)
        self.shell.model = getattr(chunk, "model", None) or self.shell.model  # what served
        out: list[bytes] = []
        self._start(out)
        for choice in getattr(chunk, "choices", None) or []:
            if choice.delta is not None:
                self._delta(choice.delta, out)
            if choice.finish_reason:
                self.finish_reason = choice.finish_reason
        return b"".join(out)

    def _start(self, out: list[bytes]) -> None:
        if self.sequence:
            return
        shell = self.shell.body("in_progress", [], None)
        out.append(self.event("response.created", {"response": shell}))
        out.append(self.event("response.in_progress", {"response": shell}))

    def _delta(self, delta: Any, out: list[bytes]) -> None:
        thinking = getattr(delta, "reasoning_content", None)
        if thinking:
            self._open("reasoning", reasoning_item(""), out)
            self._reasoning(thinking)
        text = getattr(delta, "content", None)
        if text:
            self._open("message", message_item(None, None, "in_progress"), out)
            out.append(self.event("response.output_text.delta", self._at() | {"delta": text}))
            self._append_text(text)
        for call in getattr(delta, "tool_calls", None) or []:
            function = getattr(call, "function", None)
            key = ("call", getattr(call, "index", None) or 0)
            if self.open_key != key:
                call_id = getattr(call, "id", None) or f"call_{self.sequence}"
                name = getattr(function, "name", None) or ""
                self._open(key, function_call_item(call_id, name, "", "in_progress"), out)
            arguments = getattr(function, "arguments", None)
            if arguments and self.open is not None:
                self.open["arguments"] += arguments
                delta_event = {"item_id": self.open["id"], "output_index": len(self.output)}
                out.append(
                    self.event(
                        "response.function_call_arguments.delta", delta_event | {"delta": arguments}
                    )
                )

    def _at(self) -> dict[str, Any]:
        assert self.open is not None
        return {"item_id": self.open["id"], "output_index": len(self.output), "content_index": 0}

    def _reasoning(self, text: str) -> None:
        assert self.open is not None
        self.open["summary"][0]["text"] += text

    def _append_text(self, text: str) -> None:
        assert self.open is not None
        self.open["content"][0]["text"] += text

    def _open(self, key: Any, item: dict[str, Any], out: list[bytes]) -> None:
        if self.open_key == key:
            return
        self._close(out)
        self.open, self.open_key = item, key
        index = len(self.output)
        out.append(self.event("response.output_item.added", {"output_index": index, "item": item}))
        if item["type"] == "message":
            item["content"].append(text_part(""))
            added = self._at() | {"part": text_part("")}
            out.append(self.event("response.content_part.added", added))

    def _close(self, out: list[bytes]) -> None:
        item = self.open
        if item is None:
            return
        if item["type"] == "message":
            part = item["content"][0]
            out.append(self.event("response.output_text.done", self._at() | {"text": part["text"]}))
            out.append(self.event("response.content_part.done", self._at() | {"part": part}))
        elif item["type"] == "function_call":
            done = {"item_id": item["id"], "output_index": len(self.output)}
            done |= {"name": item["name"], "arguments": item["arguments"]}
            out.append(self.event("response.function_call_arguments.done", done))
        if "status" in item:
            item["status"] = "completed"
        index = len(self.output)
        out.append(self.event("response.output_item.done", {"output_index": index, "item": item}))
        self.output.append(item)
        self.open = self.open_key = None

    def failed(self, message: str, code: str) -> bytes:
        out: list[bytes] = []
        self._start(out)
        body = self.shell.body("failed", self.output, None) | {"error": failure(message, code)}
        out.append(self.event("response.failed", {"response": body}))
        return b"".join(out)

    def ended(self, tally: Tally) -> bytes:
        out: list[bytes] = []
        self._start(out)
        self._close(out)
        ending = finished(self.shell, self.finish_reason)
        status = ending.pop("status")
        usage = tally.charged or TokenUsage(0, 0)
        self.final = self.shell.body(status, self.output, usage) | ending
        kind = "response.completed" if status == "completed" else "response.incomplete"
        out.append(self.event(kind, {"response": self.final}))
        return b"".join(out)
