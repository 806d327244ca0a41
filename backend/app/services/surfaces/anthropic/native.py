"""Claude accounts get a Messages API request as the caller wrote it (`cache_control`, signed
thinking blocks, server tools and betas survive), and the caller gets Claude's answer as it is."""

from __future__ import annotations

from typing import Any

import orjson

from app.services.calls.native import NativeCall, model_name
from app.services.calls.stream_relay import Tally
from app.services.calls.usage import TokenUsage
from app.services.oauth.adapters.base import CallTarget
from app.services.oauth.adapters.claude import ANTHROPIC_VERSION
from app.services.surfaces.anthropic.answer import error_event

PASSED_HEADERS = ("anthropic-version", "anthropic-beta")
"""The caller's headers Anthropic's API reads; the credential is the account's."""
_NO_ANSWER = frozenset({"message_start", "ping", "content_block_start"})


def usage_of(usage: dict[str, Any]) -> TokenUsage | None:
    """Anthropic's usage in the books' terms: every input token (cached or not) is prompt, the
    ones read from the cache are its cached tokens, and thinking (where counted) its reasoning."""
    cached = int(usage.get("cache_read_input_tokens") or 0)
    prompt = cached + sum(
        int(usage.get(name) or 0) for name in ("input_tokens", "cache_creation_input_tokens")
    )
    completion = int(usage.get("output_tokens") or 0)
    thinking = int((usage.get("output_tokens_details") or {}).get("thinking_tokens") or 0)
    return TokenUsage(prompt, completion, cached, thinking) if prompt or completion else None


class MessagesWire:
    """Anthropic's Messages API (a `NativeWire`)."""

    def request(
        self, target: CallTarget, call: NativeCall, *, stream: bool
    ) -> tuple[str, dict[str, str], dict[str, Any]]:
        headers = {"anthropic-version": ANTHROPIC_VERSION, **call.headers}
        headers |= {**target.extra_headers, "x-api-key": target.api_key}
        headers["content-type"] = "application/json"
        body = {**call.body, "model": model_name(target), "stream": stream}
        return target.api_base.rstrip("/") + "/v1/messages", headers, body

    def usage(self, answer: dict[str, Any]) -> TokenUsage | None:
        return usage_of(answer.get("usage") or {})

    def text(self, answer: dict[str, Any]) -> str:
        return "".join(b.get("text") or "" for b in answer.get("content") or [])

    def carries_answer(self, event: dict[str, Any]) -> bool:
        return event.get("type") not in _NO_ANSWER

    def format(self) -> MessagesPassed:
        return MessagesPassed()


class MessagesPassed:
    """Claude's stream events passed on, their usage noted (a `StreamFormat`)."""

    def __init__(self) -> None:
        self.usage: dict[str, Any] = {}

    def events(self, chunk: Any, tally: Tally) -> bytes:
        data = chunk.model_dump(exclude_none=False)
        kind = str(data.get("type") or "")
        if kind == "message_start":
            self.usage.update((data.get("message") or {}).get("usage") or {})
        elif kind == "message_delta":
            # The final counts: output tokens, and on newer API versions the input's again.
            self.usage.update({k: v for k, v in (data.get("usage") or {}).items() if v is not None})
            tally.usage = usage_of(self.usage)
        elif kind == "content_block_delta":
            text = (data.get("delta") or {}).get("text")
            if text:
                tally.texts.append(text)
        return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"

    def failed(self, message: str, code: str) -> bytes:
        return error_event(message, code)

    def ended(self, tally: Tally) -> bytes:
        return b""  # Claude's own message_delta and message_stop went through
