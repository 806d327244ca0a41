"""OpenAI accounts get a Responses API request on OpenAI's own `/responses` (platforms whose
config says `responses_api: true`): hosted tools, reasoning items and `include` survive, and the
caller gets OpenAI's answer and events as they are. The service keeps the conversation itself:
a `previous_response_id` is replaced by the stored turns, and OpenAI is asked to store nothing."""

from __future__ import annotations

from typing import Any

import orjson

from app.schemas.responses import ResponsesRequest
from app.services.calls.native import NativeCall, model_name
from app.services.calls.stream_relay import Tally
from app.services.calls.usage import TokenUsage
from app.services.oauth.adapters.base import CallTarget
from app.services.oauth.adapters.errors.upstream import UpstreamFailure, from_parts
from app.services.surfaces.responses.events import failure

_NO_ANSWER = frozenset(
    {"response.created", "response.in_progress", "response.output_item.added"}
    | {"response.content_part.added"}
)
_FAILED = frozenset({"error", "response.failed"})


def native_call(request: ResponsesRequest, earlier: list[dict[str, Any]]) -> NativeCall:
    """The caller's request as OpenAI takes it: the stored turns (without the ids OpenAI would
    look up) before its input, nothing stored on OpenAI's side."""
    body = request.model_dump(exclude_unset=True, exclude={"previous_response_id"})
    if earlier:
        items = request.input if isinstance(request.input, list) else [_said(request.input)]
        body["input"] = [_without_id(item) for item in earlier] + list(items)
    return NativeCall(ResponsesWire(), body | {"store": False})


def usage_of(usage: dict[str, Any] | None) -> TokenUsage | None:
    usage = usage or {}
    prompt, completion = int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
    if not prompt and not completion:
        return None
    cached = (usage.get("input_tokens_details") or {}).get("cached_tokens") or 0
    reasoning = (usage.get("output_tokens_details") or {}).get("reasoning_tokens") or 0
    return TokenUsage(prompt, completion, int(cached), int(reasoning))


class ResponsesWire:
    """OpenAI's Responses API (a `NativeWire`)."""

    def request(
        self, target: CallTarget, call: NativeCall, *, stream: bool
    ) -> tuple[str, dict[str, str], dict[str, Any]]:
        headers = {**target.extra_headers, "Authorization": f"Bearer {target.api_key}"}
        headers["Content-Type"] = "application/json"
        body = {**call.body, "model": model_name(target), "stream": stream}
        return target.api_base.rstrip("/") + "/responses", headers, body

    def usage(self, answer: dict[str, Any]) -> TokenUsage | None:
        return usage_of(answer.get("usage"))

    def text(self, answer: dict[str, Any]) -> str:
        return "".join(
            part.get("text") or ""
            for item in answer.get("output") or []
            for part in item.get("content") or []
        )

    def carries_answer(self, event: dict[str, Any]) -> bool:
        return event.get("type") not in _NO_ANSWER

    def format(self) -> ResponsesPassed:
        return ResponsesPassed()


class ResponsesPassed:
    """OpenAI's stream events passed on (a `StreamFormat`); `final` is its whole response once
    it has completed. An error event ends the stream as a failure, for the books."""

    def __init__(self) -> None:
        self.sequence = 0
        self.final: dict[str, Any] | None = None

    def events(self, chunk: Any, tally: Tally) -> bytes:
        data = chunk.model_dump(exclude_none=False)
        kind = str(data.get("type") or "")
        self.sequence = int(data.get("sequence_number") or self.sequence) + 1
        if kind in _FAILED:
            error = (data.get("response") or {}).get("error") or data
            raise UpstreamFailure(from_parts(None, error, lambda: "the response failed"))
        if kind == "response.output_text.delta":
            tally.texts.append(str(data.get("delta") or ""))
        elif kind in ("response.completed", "response.incomplete"):
            self.final = data.get("response") or {}
            tally.usage = usage_of(self.final.get("usage"))
        return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"

    def failed(self, message: str, code: str) -> bytes:
        response: dict[str, Any] = {"object": "response", "status": "failed", "output": []}
        response["error"] = failure(message, code)
        body = {"type": "response.failed", "sequence_number": self.sequence, "response": response}
        return b"event: response.failed\ndata: " + orjson.dumps(body) + b"\n\n"

    def ended(self, tally: Tally) -> bytes:
        return b""  # OpenAI's own response.completed went through


def _said(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": text}


def _without_id(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "id"}
