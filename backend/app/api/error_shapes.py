"""The error bodies of the APIs other than the service's own, each as its clients parse it.

/v1/messages…   Anthropic's {"type": "error", "error": {"type", "message"}}; an overloaded
                or failing platform is 529 `overloaded_error`, as Anthropic answers
/v1beta/…       Google's {"error": {"code", "message", "status"}}
other /v1/…     OpenAI's (app/api/errors.py)
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

ANTHROPIC_OVERLOADED = 529
_GEMINI_METHODS = (":generateContent", ":streamGenerateContent", ":countTokens")
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    ANTHROPIC_OVERLOADED: "overloaded_error",
}
_GOOGLE_STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def documented(model: type[BaseModel], api: str) -> dict[int | str, dict[str, Any]]:
    """What /openapi.json says an API's failures look like."""
    return {
        "4XX": {"model": model, "description": f"Refused, in {api}'s shape"},
        "5XX": {"model": model, "description": f"Failed, in {api}'s shape"},
    }


def answer_or_events(description: str) -> dict[int | str, dict[str, Any]]:
    """What /openapi.json says a call answers: JSON, or server-sent events when streamed."""
    content = {"schema": {"type": "object"}}
    events = {"schema": {"type": "string"}}
    return {
        200: {
            "description": description,
            "content": {"application/json": content, "text/event-stream": events},
        }
    }


def is_anthropic_path(path: str) -> bool:
    return path == "/v1/messages" or path.startswith("/v1/messages/")


def is_google_path(path: str) -> bool:
    """Gemini's API: all of /v1beta, and the model methods under /v1 (`/v1/models/…:method`,
    where google-genai calls by default)."""
    if path == "/v1beta" or path.startswith("/v1beta/"):
        return True
    return path.startswith("/v1/models/") and path.endswith(_GEMINI_METHODS)


def anthropic_error(status: int, message: str) -> tuple[int, dict[str, Any]]:
    """(status, body): Anthropic answers a bad parameter with 400 and an unavailable
    model with 529."""
    if status == 422:
        status = 400
    elif status in (502, 503, 504):
        status = ANTHROPIC_OVERLOADED
    kind = _ANTHROPIC_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return status, {"type": "error", "error": {"type": kind, "message": message}}


def google_error(status: int, message: str) -> tuple[int, dict[str, Any]]:
    if status == 422:
        status = 400
    reason = _GOOGLE_STATUSES.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
    return status, {"error": {"code": status, "message": message, "status": reason}}


def surface_error(path: str, status: int, message: str) -> tuple[int, dict[str, Any]] | None:
    """The status and body of a failure on a path of another vendor's API, else None."""
    if is_anthropic_path(path):
        return anthropic_error(status, message)
    if is_google_path(path):
        return google_error(status, message)
    return None
