"""Pure ASGI middleware (no BaseHTTPMiddleware: it would buffer streamed answers)."""

from __future__ import annotations

import re
import uuid

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api import json_guard
from app.api.errors import error_body
from app.core.errors import PayloadTooLarge
from app.core.logging import client_address_var, request_id_var
from app.services.calls.served import SERVED

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Tags each request with an id (the caller's X-Request-ID if sane) for logs and replies,
    keeps the client's address in the request context (for the audit log), and names the
    `platform/model` and the caller's account that served a model call in `x-oauth-proxy-target`
    and `x-oauth-proxy-account`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        client = scope.get("client")
        client_token = client_address_var.set(client[0] if client else None)
        target: list[str] = []  # platform/model and account that served a call (calls/served.py)
        served_token = SERVED.set(target)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                added = [(b"x-request-id", request_id.encode())]
                if target:
                    added.append((b"x-oauth-proxy-target", target[0].encode()))
                    added.append((b"x-oauth-proxy-account", target[1].encode()))
                message["headers"] = [*message["headers"], *added]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
            client_address_var.reset(client_token)
            SERVED.reset(served_token)


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin-allow-popups"),
]


class SecurityHeadersMiddleware:
    """Headers every response carries: no sniffing, no framing, no referrer leaks."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimitMiddleware:
    """Refuses request bodies over `max_bytes` with 413, whether or not Content-Length is sent,
    and JSON bodies `json_guard` finds unfit with 400 `invalid_json`.

    The body is read up front (the API takes small JSON bodies) so the refusal happens before the
    application sees a byte, then replayed to the application as one message.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(scope, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if json_guard.is_json(dict(scope["headers"]).get(b"content-type")):
            problem = json_guard.problem_with(body)
            if problem is not None:
                await _refuse(scope, send, 400, problem, "invalid_json")
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, scope: Scope, send: Send) -> None:
        message = f"The request body is larger than {self.max_bytes} bytes."
        code = PayloadTooLarge.code
        await _refuse(scope, send, 413, message, code, openai_code=code)


async def _refuse(
    scope: Scope, send: Send, status: int, message: str, code: str, openai_code: str | None = None
) -> None:
    """Answer before the application runs, in the shape of the surface asked."""
    status, error = error_body(scope.get("path", ""), status, message, code, openai_code)
    body = orjson.dumps(error)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
