"""The lean path: platforms whose API is OpenAI's chat completions need no translation, so the
call goes out as OpenAI JSON over the lean path's own aiohttp pool (its HTTP parser is C: a
fraction of httpx's CPU per request) and the answer is read with orjson and httpx-sse's event
decoder, without litellm's per-call and per-chunk SDK objects.

`acompletion` takes the arguments litellm's `acompletion` takes and answers in the shapes the
call path reads from litellm (attribute access over the JSON, a stream with `__anext__` and
`aclose`), and its failures carry what `upstream_error.from_exception` reads from litellm's. So
everything after the call — answers, usage, error classes, account actions — is shared; litellm
stays the reference, and the differential tests run every fake scenario through both.
"""

from __future__ import annotations

import codecs
import functools
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.request import getproxies, proxy_bypass

import aiohttp
import orjson
from httpx_sse import ServerSentEvent

# The decoders behind httpx-sse's EventSource (pinned), fed here from aiohttp's stream.
from httpx_sse._decoders import SSEDecoder, SSELineDecoder
from yarl import URL

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


def pool() -> aiohttp.ClientSession:
    """The lean path's connections. Not `trust_env`: with it aiohttp reads the environment and
    ~/.netrc in a thread on every request; `proxy_for` reads the environment once per host."""
    return aiohttp.ClientSession()


@functools.lru_cache(maxsize=64)
def proxy_for(api_base: str) -> tuple[URL | None, dict[str, str]]:
    """The proxy the environment names for a platform's API (HTTP_PROXY, HTTPS_PROXY and
    NO_PROXY, as the httpx client reads them) and the header with its credentials, if any."""
    url = URL(api_base)
    named = None if url.host is None or proxy_bypass(url.host) else getproxies().get(url.scheme)
    if not named:
        return None, {}
    proxy = URL(named)
    auth = aiohttp.BasicAuth.from_url(proxy)
    return proxy.with_user(None), {"Proxy-Authorization": auth.encode()} if auth else {}


# --- failures, in the shapes `upstream_error.from_exception` reads ---


@dataclass(frozen=True)
class Answered:
    """What an error's reader takes from the platform's response."""

    status_code: int
    headers: Mapping[str, str]
    text: str = ""
    """The body, when it was read (not for a stream)."""


class UpstreamHTTPError(Exception):
    """The platform answered with an error: its status (or, for an error sent with HTTP 200, the
    body's code, as litellm reports it), its JSON body and its response (headers, text)."""

    def __init__(self, status_code: int | str | None, body: Any, response: Answered) -> None:
        said = orjson.dumps(body).decode()[:500] if body is not None else ""
        super().__init__(f"HTTP {response.status_code}: {said}")
        self.status_code = status_code
        self.body = body if isinstance(body, dict) else None
        self.response = response


class APIConnectionError(Exception):
    """No answer: the connection was refused, reset or closed (a transport failure)."""


class Timeout(Exception):  # named as `upstream_error` knows transport failures
    """No answer in time."""


async def acompletion(http: aiohttp.ClientSession, **arguments: Any) -> Any:
    """A chat completion, or with `stream=True` its chunks."""
    response = await send(http, arguments)
    if not arguments.get("stream"):
        return Wire(await read_answer(response))
    await check_stream(response)
    return Chunks(response)


async def read_answer(response: aiohttp.ClientResponse) -> dict[str, Any]:
    """A whole answer's JSON, or the platform's error raised."""
    return _answer(response, await _read(response))


async def send(http: aiohttp.ClientSession, arguments: dict[str, Any]) -> aiohttp.ClientResponse:
    """POST the call to the platform's chat completions; the response as it starts."""
    url = arguments["api_base"].rstrip("/") + "/chat/completions"
    headers = {
        **(arguments.get("extra_headers") or {}),
        "Authorization": f"Bearer {arguments['api_key']}",
        "Content-Type": "application/json",
    }
    body = {k: v for k, v in arguments.items() if k not in _NOT_BODY}
    body["model"] = arguments["model"].split("/", 1)[1]  # `openai/<model>` is litellm's name
    body.update(arguments.get("extra_body") or {})
    return await post(http, url, headers, body, arguments.get("timeout"))


async def post(
    http: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    body: dict[str, Any],
    seconds: float | None,
) -> aiohttp.ClientResponse:
    """POST a JSON body to a platform (through the environment's proxy); the response as it
    starts, or the failure as litellm's would read."""
    # As the call timeout means: to connect, and between bytes of the answer.
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=seconds, sock_read=seconds)
    proxy, proxy_auth = proxy_for("/".join(url.split("/", 3)[:3]))  # by scheme and host
    tunnelled = url.startswith("https:")
    if not tunnelled:
        headers.update(proxy_auth)  # the proxy reads a plain request itself
    try:
        return await http.post(
            url,
            data=orjson.dumps(body),
            headers=headers,
            timeout=timeout,
            proxy=proxy,
            proxy_headers=proxy_auth if tunnelled else None,  # on the tunnel's CONNECT
        )
    except TimeoutError as exc:
        raise Timeout(TIMED_OUT) from exc
    except aiohttp.ClientError as exc:
        raise APIConnectionError(CONNECTION_ERROR) from exc


async def check_stream(response: aiohttp.ClientResponse) -> None:
    """Raise the platform's error, or its answer that came as no stream."""
    if response.status >= 400 or not _is_event_stream(response):
        content = await _read(response)
        _answer(response, content)  # raises: an error, or an answer that is no stream
        raise UpstreamHTTPError(response.status, None, answered(response, content))


class Chunks:
    """A streamed answer: `chat.completion.chunk` objects until `[DONE]`."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self._reads = response.content.iter_any()
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._lines = SSELineDecoder()
        self._decoder = SSEDecoder()
        self._events: deque[ServerSentEvent] = deque()
        self._ended = False

    def __aiter__(self) -> Chunks:
        return self

    def arrived(self) -> bool:
        """Whether the next event is here already: events that arrived together can leave in
        one write."""
        return bool(self._events)

    async def __anext__(self) -> Wire:
        while not self._events:
            if self._ended:
                raise StopAsyncIteration
            await self._read()
        event = self._events.popleft()
        if event.data == "[DONE]":
            raise StopAsyncIteration
        data = orjson.loads(event.data)
        if isinstance(data, dict) and "error" in data and not data.get("choices"):
            raise UpstreamHTTPError(code_of(data), data, answered(self._response))
        return Wire(data)

    async def aclose(self) -> None:
        # The connection goes back to the pool when the answer was read to its end, else closes.
        self._response.release()

    async def _read(self) -> None:
        try:
            received = await self._reads.__anext__()
        except StopAsyncIteration:
            self._ended = True
            lines = self._lines.flush()
        except TimeoutError as exc:
            raise Timeout(TIMED_OUT) from exc
        except aiohttp.ClientError as exc:
            raise APIConnectionError(CONNECTION_ERROR) from exc
        else:
            lines = self._lines.decode(self._text.decode(received))
        for line in lines:
            event = self._decoder.decode(line)
            if event is not None:
                self._events.append(event)


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


async def _read(response: aiohttp.ClientResponse) -> bytes:
    try:
        return await response.read()
    except TimeoutError as exc:
        raise Timeout(TIMED_OUT) from exc
    except aiohttp.ClientError as exc:
        raise APIConnectionError(CONNECTION_ERROR) from exc
    finally:
        response.release()


def answered(response: aiohttp.ClientResponse, content: bytes = b"") -> Answered:
    return Answered(response.status, response.headers, content.decode("utf-8", "replace"))


def _answer(response: aiohttp.ClientResponse, content: bytes) -> dict[str, Any]:
    """The answer's JSON, or the platform's error raised."""
    try:
        data = orjson.loads(content)
    except orjson.JSONDecodeError:
        data = None
    if response.status >= 400:
        raise UpstreamHTTPError(response.status, data, answered(response, content))
    if not isinstance(data, dict):
        raise APIConnectionError("The platform's answer was not JSON.")
    if "error" in data and not data.get("choices"):
        raise UpstreamHTTPError(code_of(data), data, answered(response, content))
    return data


def code_of(data: dict[str, Any]) -> int | str | None:
    error = data.get("error")
    code = error.get("code") if isinstance(error, dict) else error
    return code if isinstance(code, int | str) else None


def _is_event_stream(response: aiohttp.ClientResponse) -> bool:
    return response.headers.get("content-type", "").startswith("text/event-stream")
