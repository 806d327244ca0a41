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
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.database import unavailable
from app.core.errors import AppError
from app.schemas.chat import OpenAIErrorOut
from app.schemas.common import ErrorEnvelope

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

_STATUS_MESSAGES = {
    404: "No such endpoint.",
    405: "This method is not allowed on this endpoint.",
}
DATABASE_UNAVAILABLE = (
    "The service's database is unavailable (restarting or unreachable); try again in a few seconds."
)
DATABASE_RETRY_AFTER_S = 5
_OPENAI_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    429: "rate_limit_error",
}


def envelope_error(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"code": status, "message": message, "data": None}, status_code=status, headers=headers
    )


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
    headers: dict[str, str] | None = None,
    *,
    code: str | None = None,
    param: str | None = None,
) -> JSONResponse:
    """The envelope, or OpenAI's error shape under /v1 (what OpenAI's SDKs parse)."""
    if is_openai_path(request.url.path):
        body = openai_error_body(status, message, code, param)
        return JSONResponse(body, status_code=status, headers=headers)
    return envelope_error(status, message, headers)


def _describe_validation(errors: list[Any]) -> tuple[int, str]:
    if any(e.get("type") == "json_invalid" for e in errors):
        return 400, "The request body is not valid JSON."
    parts = []
    for error in errors[:5]:
        location = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{location}: {error.get('msg', 'invalid')}")
    return 422, "Invalid request: " + "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        return error_response(request, exc.status_code, exc.message, exc.headers, code=exc.code)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Only the location and the rule are echoed, never the submitted value (it may be a key).
        errors = list(exc.errors())
        status, message = _describe_validation(errors)
        if is_openai_path(request.url.path):
            # OpenAI answers an invalid parameter with 400, naming the parameter.
            location = [str(p) for p in (errors[0].get("loc", ()) if errors else ()) if p != "body"]
            param = ".".join(location) or None
            return error_response(request, 400, message, code="invalid_request", param=param)
        return envelope_error(status, message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = _STATUS_MESSAGES.get(exc.status_code) or str(exc.detail)
        return error_response(request, exc.status_code, message, getattr(exc, "headers", None))

    # Handled here rather than by the catch-all below, which would also log a traceback.
    @app.exception_handler(DBAPIError)
    @app.exception_handler(OSError)
    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        if not unavailable(exc):
            raise exc  # on to the catch-all: a 500
        logger.warning("database unavailable: %s", _cause(exc))
        headers = {"Retry-After": str(DATABASE_RETRY_AFTER_S)}
        return error_response(
            request, 503, DATABASE_UNAVAILABLE, headers, code="database_unavailable"
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error")
        message = "Internal error; the request id in X-Request-ID identifies it."
        return error_response(request, 500, message)


def _cause(exc: Exception) -> str:
    """The driver's own words, without the statement and parameters SQLAlchemy adds to them."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first_line = str(cause).partition("\n")[0]
    return f"{type(cause).__name__}: {first_line}"
