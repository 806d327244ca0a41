"""Serves the settings page: `/` (the shell) and `/static/...` (its modules, styles and icons).

The page runs under a strict Content-Security-Policy (no inline script or style, nothing from
another origin). Static files are served `no-cache` with a content ETag: the browser revalidates
each module, so a new release is picked up at once without hashed file names.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

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
