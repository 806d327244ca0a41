"""`/docs`: Swagger UI from files the service serves itself (the pinned `fastapi-offline`
package's copy), never a CDN script: the page shares its origin with the tokens the settings
page keeps, so it runs only code that was installed with the service, under a CSP that allows
nothing else."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Literal

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

router = APIRouter(include_in_schema=False)

_ASSETS = files("fastapi_offline") / "static"
_MEDIA_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}
# Swagger UI starts itself with one inline script; nothing loads from elsewhere.
_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)


@cache
def _read(name: str) -> bytes:
    return (_ASSETS / name).read_bytes()


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="OAuth Proxy — API",
        swagger_js_url="/docs/assets/swagger-ui-bundle.js",
        swagger_css_url="/docs/assets/swagger-ui.css",
        swagger_favicon_url="/docs/assets/favicon.png",
    )
    page.headers["Content-Security-Policy"] = _CSP
    return page


@router.get("/docs/assets/{name}")
async def swagger_asset(
    name: Literal["swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"],
) -> Response:
    return Response(
        _read(name),
        media_type=_MEDIA_TYPES[name],
        headers={"Cache-Control": "public, max-age=86400"},
    )
