"""What a failed call says about the platform's answer: the lean path raises the service's own
`UpstreamFailure`, which carries it; litellm's exceptions are read here, wherever litellm put it.

litellm raises one exception class per HTTP status but scatters the vendor's answer: on
OpenAI-SDK routes `e.body` is the inner error object and `e.response.text` the raw body; on the
Anthropic and Gemini routes the raw JSON survives only inside `str(e)` (sometimes as a bytes
literal); an HTTP 200 carrying an error becomes `APIError(status_code=<the body's code>)`; an
error after a stream started arrives wrapped in `MidStreamFallbackError`. `from_exception` reads
all of these into one `UpstreamError` without importing litellm (its exceptions' attributes are
read as they come); the classes litellm raises for a failed connection are passed in by whoever
holds litellm (`transport_errors`).
"""

from __future__ import annotations

import re
from types import ModuleType
from typing import Any

from app.services.oauth.adapters.errors import UpstreamError, UpstreamFailure, from_parts
from app.services.oauth.adapters.errors.upstream import error_object, json_in

_LITELLM_PREFIX = re.compile(r"^(?:litellm\.\w+:\s*)*(?:\w+:\s*)?(?:\w*Exception|\w*Error)\s+-\s+")

__all__ = ["UpstreamError", "from_exception", "transport_errors"]


def transport_errors(litellm: ModuleType) -> tuple[type[BaseException], ...]:
    """litellm's exceptions for a call that got no HTTP answer (its Timeout is one of them)."""
    return (litellm.APIConnectionError, litellm.Timeout)


def from_exception(
    exc: BaseException, transport: tuple[type[BaseException], ...] = ()
) -> UpstreamError:
    """The platform's answer in a failed call's exception; `transport`: the exception classes
    that mean the connection failed."""
    if isinstance(exc, UpstreamFailure):
        return exc.error
    inner: BaseException = exc
    mid_stream = False
    original = getattr(exc, "original_exception", None)
    if hasattr(exc, "is_pre_first_chunk") and isinstance(original, BaseException):
        mid_stream = not bool(getattr(exc, "is_pre_first_chunk", False))
        inner = original
    return from_parts(
        getattr(inner, "status_code", None),
        _error_object(inner),
        lambda: _LITELLM_PREFIX.sub("", str(inner).split(" Original exception:")[0]).strip(),
        _headers(inner),
        transport=isinstance(inner, transport),
        mid_stream=mid_stream,
    )


def _headers(exc: BaseException) -> Any:
    raw = getattr(exc, "litellm_response_headers", None)
    if raw is None:
        raw = getattr(getattr(exc, "response", None), "headers", None)
    return raw


def _error_object(exc: BaseException) -> dict[str, Any] | None:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        return error_object(body)
    response = getattr(exc, "response", None)
    text = ""
    if response is not None:
        try:
            text = response.text
        except Exception:  # a streamed response that was never read, or a closed one
            text = ""
    parsed = json_in(text) if text else None
    if parsed is None:
        parsed = json_in(str(exc))
    return error_object(parsed) if parsed is not None else None
