"""`FakeUpstream`: one vendor API on 127.0.0.1 that litellm cannot tell from the real one.

A plain ASGI callable rather than a Starlette router: routes are matched on the path's suffix
(`…/chat/completions`, `…/models/{m}:generateContent`) so that one server answers under any
mount prefix (`/v1`, `/compatible-mode/v1`, `/api/paas/v4`, `/api/v3`, …) and stands in for
several OpenAI-compatible platforms at once; and `Drop` needs uvicorn's raw `send` to reach the
TCP transport (see asgi.py). Starlette's Request parses the request.

The app runs on the server's thread and event loop while tests script it from theirs, so the
queues sit behind a lock.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from .asgi import RawSender, abort_connection, sleep_unless_disconnected
from .behaviours import (
    Behaviour,
    Drop,
    Error,
    ErrorIn200,
    MidStreamError,
    Reply,
    Slow,
    ToolCall,
    split_text,
    word_count,
)
from .embeddings import google_answer, openai_answer
from .errors import rejected_credential
from .responses_wire import ResponsesWire
from .wire import AnthropicWire, GeminiWire, OpenAIWire, Turn, Wire, dumps

Kind = Literal["openai", "anthropic", "gemini"]
Auth = Literal["bearer", "x-api-key", "x-goog-api-key"]
Platform = Literal["openai", "dashscope", "qianfan", "zhipu", "spark", "ark"]

_WIRES: dict[str, Wire] = {
    "openai": OpenAIWire(),
    "anthropic": AnthropicWire(),
    "gemini": GeminiWire(),
}
_DEFAULT_AUTH: dict[str, tuple[Auth, ...]] = {
    "openai": ("bearer",),
    "anthropic": ("x-api-key",),
    "gemini": ("bearer", "x-goog-api-key"),
}
_DEFAULT_MODELS: dict[str, tuple[str, ...]] = {
    "openai": ("gpt-4.1-mini", "gpt-4o-mini"),
    "anthropic": ("claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"),
    "gemini": ("gemini-2.5-flash", "gemini-2.5-pro"),
}
# Mount prefixes that name an OpenAI-compatible platform unambiguously (`/v1` and `/v2` don't:
# OpenAI, Spark and Qianfan share them), used to pick the platform's auth-failure body.
_PLATFORM_BY_PREFIX: tuple[tuple[str, Platform], ...] = (
    ("/compatible-mode/", "dashscope"),
    ("/api/paas/", "zhipu"),
    ("/api/coding/paas/", "zhipu"),
    ("/api/v3/", "ark"),
)
_GEMINI_CALL = re.compile(
    r"/models/(?P<model>[^/:]+):(?P<method>generateContent|streamGenerateContent)$"
)
_GEMINI_EMBED = re.compile(r"/models/(?P<model>[^/:]+):batchEmbedContents$")
_TEXT_FIELDS = (
    *("system", "messages", "contents", "system_instruction", "systemInstruction"),
    *("instructions", "input"),  # OpenAI's Responses API
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake saw it (header names lower-cased), for assertions."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    credential: str | None

    @property
    def model(self) -> str | None:
        match = _GEMINI_CALL.search(self.path)
        if match:
            return match["model"]
        return self.json.get("model") if isinstance(self.json, dict) else None


@dataclass(frozen=True)
class _Call:
    """A model request being answered."""

    model: str
    stream: bool
    include_usage: bool
    prompt_tokens: int
    wire: Wire
    """How the answer is rendered: the fake's wire format, or OpenAI's Responses API."""


class FakeUpstream:
    """One fake vendor API on 127.0.0.1. kind = 'openai' | 'anthropic' | 'gemini' (the wire format).

    `keys`: accepted credentials — a set, or a predicate (so a fake OAuth server can say which
    access tokens are live); None accepts any non-empty credential. `auth`: where the credential
    must be; by default OpenAI kind `Authorization: Bearer`, Anthropic `x-api-key` (plus a
    required `anthropic-version`), Gemini `x-goog-api-key` or `?key=` or `Authorization: Bearer`
    (an OAuth access token; it wins when both are sent, which is [unverified] for Google).
    `platform` picks the OpenAI-kind auth-failure body; None guesses it from the mount prefix
    (DashScope, Zhipu, Ark), else OpenAI's. `models` is what the models listing returns.
    These attributes are read per request, so a test may change them on a running server.
    """

    def __init__(
        self,
        kind: Kind,
        *,
        keys: set[str] | Callable[[str], bool] | None = None,
        auth: Auth | None = None,
        platform: Platform | None = None,
        models: Sequence[str] | None = None,
    ) -> None:
        if kind not in _WIRES:
            raise ValueError(f"unknown wire format {kind!r}")
        self.kind: Kind = kind
        self.keys: set[str] | Callable[[str], bool] | None = keys
        self.auth: tuple[Auth, ...] = (auth,) if auth else _DEFAULT_AUTH[kind]
        self.platform = platform
        self.models: list[str] = list(models or _DEFAULT_MODELS[kind])
        self.requests: list[RecordedRequest] = []
        self._wire = _WIRES[kind]
        self._responses = ResponsesWire()
        self._queues: dict[str | None, deque[Behaviour]] = {}
        self.listing_errors: dict[str, Error] = {}
        """Per credential, the error the models listing answers (the vendor's answer for a key
        whose balance is spent, where it refuses even the listing)."""
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    # --- test-facing API ---------------------------------------------------------------------

    def script(self, *behaviours: Behaviour, credential: str | None = None) -> None:
        """Queue behaviours, one per model request made with `credential`.

        `credential=None` is the shared queue for every credential that has no queue of its own.
        An empty queue answers with a default `Reply()`.
        """
        with self._lock:
            self._queues.setdefault(credential, deque()).extend(behaviours)

    def reset(self) -> None:
        """Forget scripts and recorded requests (between tests sharing one server)."""
        with self._lock:
            self._queues.clear()
            self.listing_errors.clear()
            self.requests.clear()

    @property
    def model_requests(self) -> list[RecordedRequest]:
        """Recorded requests that were model calls (not model listings)."""
        return [r for r in self.requests if r.method == "POST"]

    # --- ASGI --------------------------------------------------------------------------------

    @property
    def app(self) -> FakeUpstream:
        """The ASGI app to serve: `with serve(fake.app) as server: …`."""
        return self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point (an instance, not a bound method: uvicorn detects ASGI3 by
        `__call__` being a coroutine function, and takes a bound method for ASGI2)."""
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        credential, bearer = self._credential(request)
        recorded = RecordedRequest(
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            headers=dict(request.headers),
            json=body,
            credential=credential,
        )
        with self._lock:
            self.requests.append(recorded)

        out = RawSender(send)
        route = self._route(request.method, request.url.path)
        refusal = self._refusal(request, route, credential, bearer)
        if refusal is not None:
            await out.json(refusal.status, refusal.body, refusal.headers)
        elif route == "models" and credential in self.listing_errors:
            error = self.listing_errors[credential]
            await out.json(error.status, error.body, error.headers)
        elif route == "models":
            await out.json(200, self._wire.models(self.models))
        elif route == "embeddings":
            await self._embed(self._next(credential), body, out)
        else:
            call = self._call(request, body)
            await self._play(self._next(credential), call, receive, send)

    # --- request handling --------------------------------------------------------------------

    def _refusal(
        self, request: Request, route: str | None, credential: str | None, bearer: bool
    ) -> Error | None:
        """The vendor's answer to a request it refuses before looking at the model call."""
        if route is None:
            return _not_found(self.kind, request)
        if self.kind == "anthropic" and "anthropic-version" not in request.headers:
            message = "anthropic-version: header is required"
            body = {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
            return Error(400, body)
        if not self._accepts(credential):
            platform = self.platform or _guess_platform(request.url.path)
            return rejected_credential(self.kind, platform, missing=not credential, bearer=bearer)
        if (
            self.kind == "gemini"
            and request.url.path.endswith(":streamGenerateContent")
            and request.query_params.get("alt") != "sse"
        ):
            # Google would stream a JSON array; litellm never asks for one, so fail loudly.
            return Error(400, {"error": {"code": 400, "message": "fake upstream: only alt=sse"}})
        return None

    def _route(self, method: str, path: str) -> Literal["call", "models", "embeddings"] | None:
        if method == "GET" and path.endswith("/models"):
            return "models" if self.kind != "anthropic" or path == "/v1/models" else None
        if method != "POST":
            return None
        if self.kind == "openai" and path.endswith("/responses"):
            return "call"  # OpenAI's Responses API (responses_wire.py)
        if self.kind == "openai":
            if path.endswith("/embeddings"):
                return "embeddings"
            return "call" if path.endswith("/chat/completions") else None
        if self.kind == "anthropic":
            return "call" if path == "/v1/messages" else None
        if _GEMINI_EMBED.search(path):
            return "embeddings"
        return "call" if _GEMINI_CALL.search(path) else None

    def _credential(self, request: Request) -> tuple[str | None, bool]:
        """(credential, came as a Bearer token) from the places `self.auth` allows."""
        headers = request.headers
        if "bearer" in self.auth:
            scheme, _, token = headers.get("authorization", "").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip(), True
        if "x-api-key" in self.auth and headers.get("x-api-key"):
            return headers["x-api-key"], False
        if "x-goog-api-key" in self.auth:
            key = headers.get("x-goog-api-key") or request.query_params.get("key")
            if key:
                return key, False
        return None, False

    def _accepts(self, credential: str | None) -> bool:
        if not credential:
            return False
        if self.keys is None:
            return True
        if callable(self.keys):
            return bool(self.keys(credential))
        return credential in self.keys

    def _next(self, credential: str | None) -> Behaviour:
        with self._lock:
            queue = self._queues.get(credential if credential in self._queues else None)
            return queue.popleft() if queue else Reply()

    def _call(self, request: Request, body: Any) -> _Call:
        body = body if isinstance(body, dict) else {}
        text = " ".join(_texts([body.get(f) for f in _TEXT_FIELDS]))
        prompt_tokens = word_count(text)
        if self.kind == "gemini":
            match = _GEMINI_CALL.search(request.url.path)
            assert match is not None  # routed here only when it matched
            stream = match["method"] == "streamGenerateContent"
            return _Call(match["model"], stream, False, prompt_tokens, self._wire)
        options = body.get("stream_options") or {}
        responses = request.url.path.endswith("/responses")
        return _Call(
            str(body.get("model", "")),
            body.get("stream") is True,
            bool(options.get("include_usage")),
            prompt_tokens,
            self._responses if responses else self._wire,
        )

    def _turn(
        self,
        call: _Call,
        completion_tokens: int,
        prompt_tokens: int | None = None,
        reply: Reply | None = None,
    ) -> Turn:
        prefix = {"openai": "chatcmpl-fake", "anthropic": "msg_fake", "gemini": "fake-resp-"}
        return Turn(
            cached_tokens=reply.cached_tokens if reply else 0,
            reasoning_tokens=reply.reasoning_tokens if reply else 0,
            extras=dict(reply.extras) if reply else None,
            refusal=reply.refusal if reply else None,
            model=call.model,
            id=f"{prefix[self.kind]}{next(self._ids):06d}",
            created=int(time.time()),
            prompt_tokens=call.prompt_tokens if prompt_tokens is None else prompt_tokens,
            completion_tokens=completion_tokens,
            include_usage=call.include_usage,
        )

    async def _embed(self, behaviour: Behaviour, body: Any, out: RawSender) -> None:
        """Embeddings answer a scripted `Error` as it is; any other behaviour, with vectors."""
        if isinstance(behaviour, Error):
            await out.json(behaviour.status, behaviour.body, behaviour.headers)
            return
        body = body if isinstance(body, dict) else {}
        answer = google_answer(body) if self.kind == "gemini" else openai_answer(body)
        await out.json(200, answer)

    # --- behaviours --------------------------------------------------------------------------

    async def _play(self, behaviour: Behaviour, call: _Call, receive: Receive, send: Send) -> None:
        out = RawSender(send)
        match behaviour:
            case Slow(delay_s=delay, then=then):
                if await sleep_unless_disconnected(delay, receive):
                    return
                await self._play(then, call, receive, send)
            case Error():
                await out.json(behaviour.status, behaviour.body, behaviour.headers)
            case ErrorIn200(body=body):
                await out.json(200, body)
            case Reply():
                await self._reply(behaviour, call, receive, out)
            case ToolCall():
                tokens = behaviour.completion_tokens
                arguments = dumps(dict(behaviour.arguments)).decode()
                turn = self._turn(call, word_count(arguments) if tokens is None else tokens)
                if not call.stream:
                    await out.json(200, call.wire.tool_call(turn, behaviour))
                    return
                await out.start_stream()
                await out.events(call.wire.tool_call_stream(turn, behaviour))
                await out.end()
            case MidStreamError(after_chunks=n, body=body, text=text):
                if not call.stream:
                    misuse = {"error": {"message": "fake upstream: MidStreamError needs stream"}}
                    await out.json(500, misuse)
                    return
                turn = self._turn(call, word_count(text))
                await out.start_stream()
                await out.events(_partial_stream(call.wire, turn, text, n))
                await out.events([call.wire.error_event(body)])
                await out.end()
            case Drop(after_chunks=None, reset=reset):
                await abort_connection(send, reset=reset)
            case Drop(after_chunks=n, text=text, reset=reset):
                turn = self._turn(call, word_count(text))
                if call.stream:
                    await out.start_stream()
                    await out.events(_partial_stream(call.wire, turn, text, n or 0))
                else:
                    full = dumps(call.wire.response(turn, text))
                    await out.start(200, "application/json", {"content-length": str(len(full))})
                    await out.events([full[: len(full) // 2]])
                await abort_connection(send, reset=reset)

    async def _reply(self, reply: Reply, call: _Call, receive: Receive, out: RawSender) -> None:
        completion_tokens = (
            word_count(reply.text) if reply.completion_tokens is None else reply.completion_tokens
        )
        turn = self._turn(call, completion_tokens, reply.prompt_tokens, reply)
        if not call.stream:
            await out.json(200, call.wire.response(turn, reply.text), reply.headers)
            return
        pieces = split_text(reply.text, max(1, reply.chunks)) or [""]
        await out.start_stream(reply.headers)
        await out.events(call.wire.preamble(turn))
        for i, piece in enumerate(pieces):
            if (
                i
                and reply.chunk_delay_s
                and await sleep_unless_disconnected(reply.chunk_delay_s, receive)
            ):
                return
            await out.events([call.wire.chunk(turn, piece, last=i == len(pieces) - 1)])
        await out.events(call.wire.finish(turn))
        await out.end()


def _partial_stream(wire: Wire, turn: Turn, text: str, chunks: int) -> list[bytes]:
    """Preamble plus `chunks` content chunks of `text`; nothing at all for 0 chunks."""
    pieces = split_text(text, chunks)
    if not pieces:
        return []
    return [*wire.preamble(turn), *(wire.chunk(turn, p, last=False) for p in pieces)]


def _texts(value: Any) -> list[str]:
    """Every prompt string in a request: `content` strings and `text` fields, in order."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for item in value for t in _texts(item)]
    if isinstance(value, dict):
        found: list[str] = []
        for key in ("content", "text", "parts"):
            if key in value:
                found += _texts(value[key])
        return found
    return []


def _guess_platform(path: str) -> Platform:
    for prefix, platform in _PLATFORM_BY_PREFIX:
        if path.startswith(prefix):
            return platform
    return "openai"


def _not_found(kind: str, request: Request) -> Error:
    """Each vendor's answer to a path it doesn't serve (catches wrong api_base prefixes)."""
    method, path = request.method, request.url.path
    if kind == "anthropic":
        body = {"type": "error", "error": {"type": "not_found_error", "message": "Not Found"}}
        return Error(404, body)
    if kind == "gemini":
        message = f"Method not found: {method} {path}"
        return Error(404, {"error": {"code": 404, "message": message, "status": "NOT_FOUND"}})
    message = f"Invalid URL ({method} {path})"
    return Error(
        404,
        {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        },
    )
