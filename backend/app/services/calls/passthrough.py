"""The lean path: platforms whose API is OpenAI's chat completions need no translation, so the
call goes out as OpenAI JSON over the service's shared HTTP pool and the answer is read with
orjson and httpx-sse, without litellm's per-call and per-chunk SDK objects.

`acompletion` takes the arguments litellm's `acompletion` takes and answers in the shapes the
call path reads from litellm (attribute access over the JSON, a stream with `__anext__` and
`aclose`), and its failures carry what `upstream_error.from_exception` reads from litellm's. So
everything after the call — answers, usage, error classes, account actions — is shared; litellm
stays the reference, and the differential tests run every fake scenario through both.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from httpx_sse import EventSource

from app.models import PlatformConfig

LEAN_PROVIDERS = frozenset({"openai"})
"""litellm providers whose wire is OpenAI's own (DashScope and Ark get litellm's handlers)."""
# litellm's words for the same failures, so that callers read the same either way.
CONNECTION_ERROR = "Connection error."
TIMED_OUT = "Request timed out."
_NOT_BODY = frozenset(
    {"model", "api_base", "api_key", "timeout", "max_retries", "drop_params", "extra_headers",
     "extra_body"}
)  # fmt: skip


def eligible(platform: PlatformConfig) -> bool:
    config = platform.litellm_config
    return config.get("provider") in LEAN_PROVIDERS and config.get("lean_path", True) is not False


# --- failures, in the shapes `upstream_error.from_exception` reads ---


class UpstreamHTTPError(Exception):
    """The platform answered with an error: its status (or, for an error sent with HTTP 200, the
    body's code, as litellm reports it), its JSON body and its response (headers, text)."""

    def __init__(self, status_code: int | str | None, body: Any, response: httpx.Response) -> None:
        # A streamed response's text cannot be read here: the message comes from the body.
        said = orjson.dumps(body).decode()[:500] if body is not None else ""
        super().__init__(f"HTTP {response.status_code}: {said}")
        self.status_code = status_code
        self.body = body if isinstance(body, dict) else None
        self.response = response


class APIConnectionError(Exception):
    """No answer: the connection was refused, reset or closed (a transport failure)."""


class Timeout(Exception):  # named as `upstream_error` knows transport failures
    """No answer in time."""


async def acompletion(http: httpx.AsyncClient, **arguments: Any) -> Any:
    """A chat completion, or with `stream=True` its chunks."""
    url = arguments["api_base"].rstrip("/") + "/chat/completions"
    headers = {
        **(arguments.get("extra_headers") or {}),
        "Authorization": f"Bearer {arguments['api_key']}",
        "Content-Type": "application/json",
    }
    body = {k: v for k, v in arguments.items() if k not in _NOT_BODY}
    body["model"] = arguments["model"].split("/", 1)[1]  # `openai/<model>` is litellm's name
    body.update(arguments.get("extra_body") or {})
    request = http.build_request(
        "POST",
        url,
        headers=headers,
        content=orjson.dumps(body),
        timeout=httpx.Timeout(arguments.get("timeout")),
    )
    response = await _send(http, request, stream=bool(body.get("stream")))
    if not body.get("stream"):
        return Wire(_answer(response, response.content))
    if response.status_code >= 400 or not _is_event_stream(response):
        content = await _read(response)
        _answer(response, content)  # raises: an error, or an answer that is no stream
        raise UpstreamHTTPError(response.status_code, None, response)
    return Chunks(response)


class Chunks:
    """A streamed answer: `chat.completion.chunk` objects until `[DONE]`."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._events = EventSource(response).aiter_sse()

    def __aiter__(self) -> Chunks:
        return self

    async def __anext__(self) -> Wire:
        try:
            event = await self._events.__anext__()
        except httpx.TimeoutException as exc:
            raise Timeout(TIMED_OUT) from exc
        except httpx.TransportError as exc:
            raise APIConnectionError(CONNECTION_ERROR) from exc
        if event.data == "[DONE]":
            raise StopAsyncIteration
        data = orjson.loads(event.data)
        if isinstance(data, dict) and "error" in data and not data.get("choices"):
            raise UpstreamHTTPError(_code_of(data), data, self._response)
        return Wire(data)

    async def aclose(self) -> None:
        await self._response.aclose()


class Wire:
    """Attribute access over a JSON object, as litellm's response objects give it."""

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getattr__(self, name: str) -> Any:
        return _wrap(self._data.get(name))

    def model_dump(self, exclude_none: bool = True) -> dict[str, Any]:
        return _without_none(self._data) if exclude_none else self._data


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return Wire(value)
    if isinstance(value, list):
        return [_wrap(item) for item in value]
    return value


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


async def _send(http: httpx.AsyncClient, request: httpx.Request, stream: bool) -> httpx.Response:
    try:
        return await http.send(request, stream=stream)
    except httpx.TimeoutException as exc:
        raise Timeout(TIMED_OUT) from exc
    except httpx.TransportError as exc:
        raise APIConnectionError(CONNECTION_ERROR) from exc


async def _read(response: httpx.Response) -> bytes:
    try:
        return await response.aread()
    except httpx.TimeoutException as exc:
        raise Timeout(TIMED_OUT) from exc
    except httpx.TransportError as exc:
        raise APIConnectionError(CONNECTION_ERROR) from exc
    finally:
        await response.aclose()


def _answer(response: httpx.Response, content: bytes) -> dict[str, Any]:
    """The answer's JSON, or the platform's error raised."""
    try:
        data = orjson.loads(content)
    except orjson.JSONDecodeError:
        data = None
    if response.status_code >= 400:
        raise UpstreamHTTPError(response.status_code, data, response)
    if not isinstance(data, dict):
        raise APIConnectionError("The platform's answer was not JSON.")
    if "error" in data and not data.get("choices"):
        raise UpstreamHTTPError(_code_of(data), data, response)
    return data


def _code_of(data: dict[str, Any]) -> int | str | None:
    error = data.get("error")
    code = error.get("code") if isinstance(error, dict) else error
    return code if isinstance(code, int | str) else None


def _is_event_stream(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/event-stream")
