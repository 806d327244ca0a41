"""The one place where errors become responses, never a stack trace: the seed's envelope, and
OpenAI's `{"error": {"message", "type", "param", "code"}}` under the OpenAI-compatible `/v1`.
A database that is down or restarting is a 503 saying so, not an internal error."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.error_shapes import is_google_path, surface_error
from app.core.database import passing
from app.core.errors import AppError, code_for_status
from app.schemas.chat import OpenAIErrorOut
from app.schemas.common import ErrorEnvelope
from app.services.request_log import trace

logger = logging.getLogger(__name__)

# What /openapi.json says every failure looks like: the shapes the handlers below render.
ENVELOPE_ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorEnvelope, "description": "Refused; `message` says why"},
    "5XX": {"model": ErrorEnvelope, "description": "Failed; X-Request-ID names it in the logs"},
}
OPENAI_ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": OpenAIErrorOut, "description": "Refused, in OpenAI's error shape"},
    "5XX": {"model": OpenAIErrorOut, "description": "Failed, in OpenAI's error shape"},
}

# Routing's own failures: (message, error_code) by status.
_ROUTING_FAILURES = {
    404: ("No such endpoint.", "endpoint_not_found"),
    405: ("This method is not allowed on this endpoint.", "method_not_allowed"),
}
DATABASE_UNAVAILABLE = (
    "The service's database is unavailable (restarting, unreachable or saturated); try again in "
    "a few seconds."
)
DATABASE_RETRY_AFTER_S = 5
_OPENAI_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    429: "rate_limit_error",
}


def envelope_error_body(status: int, message: str, error_code: str) -> dict[str, Any]:
    """The seed's envelope of a failure, with the stable `error_code` beside its fields."""
    return {"code": status, "message": message, "data": None, "error_code": error_code}


def is_openai_path(path: str) -> bool:
    return path == "/v1" or path.startswith("/v1/")


def openai_error_body(
    status: int, message: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    if status >= 500:
        error_type = "server_error"
    else:
        error_type = _OPENAI_TYPES.get(status, "invalid_request_error")
    if status == 401:
        code = "invalid_api_key"
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def error_response(
    request: Request,
    status: int,
    message: str,
    error_code: str,
    headers: dict[str, str] | None = None,
    *,
    openai_code: str | None = None,
    param: str | None = None,
) -> JSONResponse:
    """The failure in the shape its path's clients parse (`error_body`)."""
    trace.refused(error_code)
    status, body = error_body(request.url.path, status, message, error_code, openai_code, param)
    return JSONResponse(body, status_code=status, headers=headers)


def error_body(
    path: str,
    status: int,
    message: str,
    error_code: str,
    openai_code: str | None = None,
    param: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """(status, body): another API's error shape on its paths (app/api/error_shapes.py), OpenAI's
    under /v1 (its `code` is `openai_code`, null where OpenAI's own would be), else the
    envelope."""
    other = surface_error(path, status, message)
    if other is not None:
        return other
    if is_openai_path(path):
        return status, openai_error_body(status, message, openai_code, param)
    return status, envelope_error_body(status, message, error_code)


def _describe_validation(errors: list[Any]) -> tuple[int, str, str]:
    """The status, message and error_code of a request that failed validation."""
    if any(e.get("type") == "json_invalid" for e in errors):
        return 400, "The request body is not valid JSON.", "invalid_json"
    parts = []
    for error in errors[:5]:
        location = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{location}: {error.get('msg', 'invalid')}")
    return 422, "Invalid request: " + "; ".join(parts), "validation_error"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        return error_response(
            request, exc.status_code, exc.message, exc.code, exc.headers, openai_code=exc.code
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Only the location and the rule are echoed, never the submitted value (it may be a key).
        errors = list(exc.errors())
        status, message, error_code = _describe_validation(errors)
        if is_openai_path(request.url.path) or is_google_path(request.url.path):
            # OpenAI (Anthropic, Google) answer an invalid parameter with 400, naming it.
            location = [str(p) for p in (errors[0].get("loc", ()) if errors else ()) if p != "body"]
            param = ".".join(location) or None
            return error_response(
                request, 400, message, error_code, openai_code="invalid_request", param=param
            )
        return error_response(request, status, message, error_code)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message, error_code = _ROUTING_FAILURES.get(
            exc.status_code, (str(exc.detail), code_for_status(exc.status_code))
        )
        headers = getattr(exc, "headers", None)
        return error_response(request, exc.status_code, message, error_code, headers)

    # Handled here rather than by the catch-all below, which would also log a traceback.
    @app.exception_handler(DBAPIError)
    @app.exception_handler(PoolTimeout)
    @app.exception_handler(OSError)
    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        if not passing(exc):  # down, saturated, or this transaction a deadlock's victim
            raise exc  # on to the catch-all: a 500
        logger.warning("database unavailable: %s", _cause(exc))
        headers = {"Retry-After": str(DATABASE_RETRY_AFTER_S)}
        code = "database_unavailable"
        return error_response(request, 503, DATABASE_UNAVAILABLE, code, headers, openai_code=code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error")
        message = "Internal error; the request id in X-Request-ID identifies it."
        return error_response(request, 500, message, AppError.code)


def _cause(exc: Exception) -> str:
    """The driver's own words, without the statement and parameters SQLAlchemy adds to them."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first_line = str(cause).partition("\n")[0]
    return f"{type(cause).__name__}: {first_line}"
