"""What a failed litellm call says about the platform's answer, wherever litellm put it.

litellm raises one exception class per HTTP status but scatters the vendor's answer: on
OpenAI-SDK routes `e.body` is the inner error object and `e.response.text` the raw body; on the
Anthropic and Gemini routes the raw JSON survives only inside `str(e)` (sometimes as a bytes
literal); an HTTP 200 carrying an error becomes `APIError(status_code=<the body's code>)`; an
error after a stream started arrives wrapped in `MidStreamFallbackError`. `from_exception` reads
all of these into one `UpstreamError` without importing litellm (duck typing on attributes).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.core.logging import redact

_MAX_SCAN = 20_000  # characters of an exception's text searched for a JSON body
_BYTES_LITERAL = re.compile(r"b'((?:[^'\\]|\\.)*)'")
_LITELLM_PREFIX = re.compile(r"^(?:litellm\.\w+:\s*)*(?:\w+:\s*)?(?:\w*Exception|\w*Error)\s+-\s+")
_TRANSPORT_CLASSES = {"APIConnectionError", "Timeout", "APITimeoutError"}


@dataclass(frozen=True)
class UpstreamError:
    """One failed call: the platform's status, code and words, and how the failure happened."""

    status: int | None
    """The platform's HTTP status; None when no HTTP answer came (or a 200 carried the error)."""
    code: str | None = None
    """The body's error code (`1113`, `Arrearage`, `insufficient_quota`) or Google's status."""
    error_type: str | None = None
    """The body's error type (`overloaded_error`, `billing_error`, `insufficient_quota`)."""
    message: str = ""
    details: tuple[dict[str, Any], ...] = ()
    """Google's `error.details` (QuotaFailure, RetryInfo, ErrorInfo)."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Response headers, names lower-cased (retry-after, x-ratelimit-*)."""
    transport: bool = False
    """No HTTP answer at all: connection refused or reset, a timeout."""
    mid_stream: bool = False
    """Raised after the stream's first chunk."""


def from_exception(exc: BaseException) -> UpstreamError:
    inner: BaseException = exc
    mid_stream = False
    original = getattr(exc, "original_exception", None)
    if hasattr(exc, "is_pre_first_chunk") and isinstance(original, BaseException):
        mid_stream = not bool(getattr(exc, "is_pre_first_chunk", False))
        inner = original

    status, code = _status_of(getattr(inner, "status_code", None))
    error = _error_object(inner)
    error_type: str | None = None
    message = ""
    details: tuple[dict[str, Any], ...] = ()
    if error is not None:
        body_code = error.get("code", error.get("error_code"))
        if isinstance(body_code, int) and 100 <= body_code <= 599 and "status" in error:
            # Google: `code` is the HTTP status (litellm may report 500 for a 503), `status`
            # the machine-readable reason.
            status = body_code
            code = str(error["status"])
        elif body_code not in (None, ""):
            code = str(body_code)
        if isinstance(error.get("type"), str) and error["type"] != "error":
            error_type = error["type"]
        message = str(error.get("message") or error.get("error_msg") or "")
        raw_details = error.get("details")
        if isinstance(raw_details, list):
            details = tuple(d for d in raw_details if isinstance(d, dict))
    if not message:
        message = _LITELLM_PREFIX.sub("", str(inner).split(" Original exception:")[0]).strip()
    transport = error is None and (
        type(inner).__name__ in _TRANSPORT_CLASSES or "connection error" in message.lower()
    )
    return UpstreamError(
        status=status,
        code=code,
        error_type=error_type,
        message=short(message),
        details=details,
        headers=_headers(inner),
        transport=transport,
        mid_stream=mid_stream,
    )


def short(text: str, limit: int = 300) -> str:
    """A vendor's message fit to show: secrets redacted, one line, bounded."""
    text = redact(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _status_of(raw: object) -> tuple[int | None, str | None]:
    """(HTTP status, code): a non-numeric status is the code of an error sent with HTTP 200."""
    if isinstance(raw, int):
        return raw, None
    if isinstance(raw, str) and raw:
        if raw.isdigit() and 100 <= int(raw) <= 599:
            return int(raw), None
        return None, raw
    return None, None


def _headers(exc: BaseException) -> dict[str, str]:
    raw = getattr(exc, "litellm_response_headers", None)
    if raw is None:
        response = getattr(exc, "response", None)
        raw = getattr(response, "headers", None)
    try:
        return {str(k).lower(): str(v) for k, v in dict(raw or {}).items()}
    except (TypeError, ValueError):
        return {}


def _error_object(exc: BaseException) -> dict[str, Any] | None:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        return _inner(body)
    response = getattr(exc, "response", None)
    text = ""
    if response is not None:
        try:
            text = response.text
        except Exception:  # a streamed response that was never read, or a closed one
            text = ""
    parsed = _json_in(text) if text else None
    if parsed is None:
        parsed = _json_in(str(exc))
    return _inner(parsed) if parsed is not None else None


def _inner(body: dict[str, Any]) -> dict[str, Any]:
    error = body.get("error")
    if isinstance(error, dict):
        return error
    if isinstance(error, str):
        return {"code": error, "message": body.get("error_description") or body.get("message")}
    return body


def _json_in(text: str) -> dict[str, Any] | None:
    """The first JSON (or Python-literal) object in `text`, bytes literals included."""
    text = text[:_MAX_SCAN]
    for match in _BYTES_LITERAL.finditer(text):
        try:
            raw = ast.literal_eval(f"b'{match.group(1)}'")
            found = json.loads(raw.decode("utf-8", "replace"))
        except (ValueError, SyntaxError):
            continue
        if isinstance(found, dict):
            return found
    decoder = json.JSONDecoder()
    start = text.find("{")
    tries = 0
    while start != -1 and tries < 8:
        tries += 1
        try:
            found, _ = decoder.raw_decode(text, start)
        except ValueError:
            found = None
        if isinstance(found, dict):
            return found
        # litellm sometimes quotes a body as a Python dict (`{'code': '1113', ...}`).
        end = text.rfind("}")
        if end > start and text[start + 1 : start + 2] == "'":
            try:
                literal = ast.literal_eval(text[start : end + 1])
            except (ValueError, SyntaxError):
                literal = None
            if isinstance(literal, dict):
                return literal
        start = text.find("{", start + 1)
    return None
