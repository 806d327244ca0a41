"""Gemini accounts get a generateContent request as the caller wrote it (safety settings, cached
content, Google's own tools survive), and the caller gets Gemini's answer as it is."""

from __future__ import annotations

from typing import Any

import orjson

from app.services.calls.native import NativeCall, model_name
from app.services.calls.stream_relay import Tally
from app.services.calls.usage import TokenUsage
from app.services.oauth.adapters.base import CallTarget
from app.services.surfaces.gemini.answer import error_event


def usage_of(metadata: dict[str, Any]) -> TokenUsage | None:
    """Google's usage in the books' terms: thoughts count as answer tokens (its reasoning), the
    cached content as the prompt's cached tokens."""
    prompt = int(metadata.get("promptTokenCount") or 0)
    thoughts = int(metadata.get("thoughtsTokenCount") or 0)
    answer = int(metadata.get("candidatesTokenCount") or 0) + thoughts
    cached = int(metadata.get("cachedContentTokenCount") or 0)
    return TokenUsage(prompt, answer, cached, thoughts) if prompt or answer else None


def _parts(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        part
        for candidate in response.get("candidates") or []
        for part in (candidate.get("content") or {}).get("parts") or []
    ]


class GenerateContentWire:
    """Google's generateContent (a `NativeWire`)."""

    def request(
        self, target: CallTarget, call: NativeCall, *, stream: bool
    ) -> tuple[str, dict[str, str], dict[str, Any]]:
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        url = f"{target.api_base.rstrip('/')}/models/{model_name(target)}:{method}"
        # An OAuth-bound account's Bearer header is in extra_headers; a key goes as Google's.
        headers = dict(target.extra_headers) or {"x-goog-api-key": target.api_key}
        headers["content-type"] = "application/json"
        return url, headers, call.body

    def usage(self, answer: dict[str, Any]) -> TokenUsage | None:
        return usage_of(answer.get("usageMetadata") or {})

    def text(self, answer: dict[str, Any]) -> str:
        return "".join(str(p.get("text") or "") for p in _parts(answer))

    def carries_answer(self, event: dict[str, Any]) -> bool:
        candidates = event.get("candidates") or []
        return bool(_parts(event)) or any(c.get("finishReason") for c in candidates)

    def format(self) -> ContentPassed:
        return ContentPassed()


class ContentPassed:
    """Gemini's stream events passed on, their usage noted (a `StreamFormat`)."""

    def events(self, chunk: Any, tally: Tally) -> bytes:
        data = chunk.model_dump(exclude_none=False)
        metadata = data.get("usageMetadata") or {}
        if metadata.get("candidatesTokenCount") is not None:  # the last event's full count
            tally.usage = usage_of(metadata)
        tally.texts += [str(p["text"]) for p in _parts(data) if p.get("text")]
        return b"data: " + orjson.dumps(data) + b"\r\n\r\n"

    def failed(self, message: str, code: str) -> bytes:
        return error_event(message, code)

    def ended(self, tally: Tally) -> bytes:
        return b""
