"""What a failed call to a platform says (`UpstreamError`), and the service's own exception that
carries it (`UpstreamFailure`, raised by the lean path; litellm's exceptions are read into the
same shape by `app.services.calls.upstream_error`).

Vendors put their error in different places of the body: `error.code` or `error_code`, Google's
HTTP status in `error.code` with the reason in `error.status`, `error.message` or `error_msg`,
OAuth's `{"error": "<code>", "error_description": …}`. `from_parts` reads them all.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.core.logging import redact

_MAX_SCAN = 20_000  # characters of a text searched for a JSON body
_BYTES_LITERAL = re.compile(r"b'((?:[^'\\]|\\.)*)'")


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


class UpstreamFailure(Exception):
    """A call to a platform failed; `error` says how."""

    def __init__(self, error: UpstreamError) -> None:
        super().__init__(error.message)
        self.error = error


def unreachable(message: str) -> UpstreamFailure:
    """No answer came: the connection failed or timed out."""
    return UpstreamFailure(UpstreamError(status=None, message=short(message), transport=True))


def from_parts(
    status_code: object,
    error: dict[str, Any] | None,
    fallback: Callable[[], str],
    headers: Any = None,
    *,
    transport: bool = False,
    mid_stream: bool = False,
) -> UpstreamError:
    """An error from its HTTP status (or, for an error sent with HTTP 200, the body's code),
    the body's error object, the words to use when it has none, and the response headers;
    `transport`: the failure was the connection's, when no error object says otherwise."""
    status, code = _status_of(status_code)
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
        message = fallback()
    return UpstreamError(
        status=status,
        code=code,
        error_type=error_type,
        message=short(message),
        details=details,
        headers=lowered(headers),
        transport=error is None and (transport or "connection error" in message.lower()),
        mid_stream=mid_stream,
    )


def short(text: str, limit: int = 300) -> str:
    """A vendor's message fit to show: secrets redacted, one line, bounded."""
    text = redact(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def lowered(headers: Any) -> dict[str, str]:
    """Response headers with their names lower-cased (none when unreadable)."""
    try:
        return {str(k).lower(): str(v) for k, v in dict(headers or {}).items()}
    except (TypeError, ValueError):
        return {}


def error_object(body: dict[str, Any]) -> dict[str, Any]:
    """The error inside a body: `{"error": {...}}`, OAuth's `{"error": "<code>"}`, or the body."""
    error = body.get("error")
    if isinstance(error, dict):
        return error
    if isinstance(error, str):
        return {"code": error, "message": body.get("error_description") or body.get("message")}
    return body


def json_in(text: str) -> dict[str, Any] | None:
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


def _status_of(raw: object) -> tuple[int | None, str | None]:
    """(HTTP status, code): a non-numeric status is the code of an error sent with HTTP 200."""
    if isinstance(raw, int):
        return raw, None
    if isinstance(raw, str) and raw:
        if raw.isdigit() and 100 <= int(raw) <= 599:
            return int(raw), None
        return None, raw
    return None, None
