"""Serves the settings page: `/` (the shell), `/static/...` (its modules, styles and icons) and
`/web/features` (which parts of the API this service has, so the page never probes with 404s).

The page runs under a strict Content-Security-Policy (no inline script or style, nothing from
another origin). Static files are served `no-cache` with a content ETag: the browser revalidates
each module, so a new release is picked up at once without hashed file names.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match

from app.core.errors import NotFound

STATIC_DIR = Path(__file__).resolve().parent / "static"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# Added to every response by SecurityHeadersMiddleware: nosniff, DENY framing, no referrer.
_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"}
_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}

# The API parts the page uses that are not there on every version of the service: the page
# asks which exist and shows "not available yet" instead of calling a missing route.
_FEATURES: dict[str, tuple[tuple[str, str], ...]] = {
    "chat": (("POST", "/api/v1/oauth/chat/completions"),),
    "models": (("GET", "/v1/models"),),
    "api_keys": (("GET", "/api/v1/auth/api-keys"),),
    "usage": (("GET", "/api/v1/oauth/usage"), ("GET", "/api/v1/usage")),
    "session_input": (("POST", "/api/v1/oauth/sessions/{state}/input"),),
    "live_view": (
        ("WEBSOCKET", "/api/v1/oauth/sessions/{state}/live"),
        ("WEBSOCKET", "/api/v1/oauth/sessions/{state}/ws"),
    ),
    "admin_platforms": (("GET", "/api/v1/admin/platforms"),),
    "admin_platform": (("PUT", "/api/v1/admin/platforms/{platform_id}"),),
    "admin_users": (("GET", "/api/v1/admin/users"),),
    "admin_alerts": (("GET", "/api/v1/admin/alerts"),),
    "alerts": (("GET", "/api/v1/oauth/alerts"),),
}
_PARAMETER = re.compile(r"\{[^}]+\}")

router = APIRouter(include_in_schema=False)


def _file_response(path: Path, request: Request) -> Response:
    body = path.read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {**_HEADERS, "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=_MEDIA_TYPES[path.suffix], headers=headers)


@router.get("/")
def index(request: Request) -> Response:
    return _file_response(STATIC_DIR / "index.html", request)


@router.get("/favicon.ico")
def favicon(request: Request) -> Response:
    # Pages without an icon link (the API docs, the OAuth callback) make browsers ask for this.
    return _file_response(STATIC_DIR / "img" / "icon.svg", request)


@router.get("/static/{name:path}")
def static_file(name: str, request: Request) -> Response:
    path = (STATIC_DIR / name).resolve()
    if not path.is_relative_to(STATIC_DIR) or not path.is_file() or path.suffix not in _MEDIA_TYPES:
        raise NotFound("No such file.")
    return _file_response(path, request)


def routed(routes: list[BaseRoute], method: str, path: str) -> bool:
    """Whether a request (`WEBSOCKET` for a WebSocket) would reach one of `routes`."""
    scope: dict[str, Any] = {
        "type": "websocket" if method == "WEBSOCKET" else "http",
        "method": method,
        "path": _PARAMETER.sub("p0123456789abcdefghij", path),
        "root_path": "",
        "query_string": b"",
        "headers": [],
    }
    return any(route.matches(scope)[0] == Match.FULL for route in routes)


def available_features(routes: list[BaseRoute]) -> dict[str, str | None]:
    """Each feature's path template on this app, or None where the app does not have it yet."""
    return {
        name: next((path for method, path in candidates if routed(routes, method, path)), None)
        for name, candidates in _FEATURES.items()
    }


@router.get("/web/features")
def features(request: Request) -> JSONResponse:
    return JSONResponse(
        {"code": 200, "message": "success", "data": available_features(request.app.routes)},
        headers={"Cache-Control": "no-cache"},
    )
