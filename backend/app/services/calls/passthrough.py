"""The lean path: platforms whose API is OpenAI's chat completions need no translation, so the
call goes out as OpenAI JSON over the lean path's own aiohttp pool (its HTTP parser is C: a
fraction of httpx's CPU per request) and the answer is read with orjson (a stream's events by
calls/sse.py), without litellm's per-call and per-chunk SDK objects.

`acompletion` takes the arguments litellm's `acompletion` takes and answers in the shapes the
call path reads from litellm (attribute access over the JSON, a stream with `__anext__` and
`aclose`); its failures are the service's own `UpstreamFailure`, carrying what is read from
litellm's exceptions (status, code, words, headers). So everything after the call — answers,
usage, error classes, account actions — is shared; litellm stays the reference, and the
differential tests run every fake scenario through both.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.request import getproxies, proxy_bypass

import aiohttp
import orjson
from aiohttp.abc import AbstractResolver
from yarl import URL

from app.models import PlatformConfig
from app.services.calls.sse import CONNECTION_ERROR, DONE, TIMED_OUT, EventReader
from app.services.oauth.adapters.errors import UpstreamFailure, from_parts, unreachable
from app.services.oauth.adapters.errors.upstream import error_object, json_in

LEAN_PROVIDERS = frozenset({"openai"})
"""litellm providers whose wire is OpenAI's own (DashScope and Ark get litellm's handlers)."""
_NOT_BODY = frozenset(
    {"model", "api_base", "api_key", "timeout", "max_retries", "drop_params", "extra_headers",
     "extra_body"}
)  # fmt: skip


def eligible(platform: PlatformConfig) -> bool:
    config = platform.litellm_config
    return config.get("provider") in LEAN_PROVIDERS and config.get("lean_path", True) is not False


def pool(resolver: AbstractResolver) -> aiohttp.ClientSession:
    """The lean path's connections. Not `trust_env`: with it aiohttp reads the environment and
    ~/.netrc in a thread on every request; `proxy_for` reads the environment once per host.
    No cap on connections (aiohttp's default is 100): each is a call in flight, and a stream can
    last minutes, so a cap would hold back calls the service has already taken. `resolver`
    refuses private addresses unless OUTBOUND_ALLOW_PRIVATE (app/core/outbound.py)."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, resolver=resolver))


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


# --- failures: the service's own UpstreamFailure, with litellm's words for the same ones ---


def refused(
    status_code: int | str | None,
    body: Any,
    response: aiohttp.ClientResponse,
    content: bytes = b"",
) -> UpstreamFailure:
    """The platform answered with an error: its status (or, for an error sent with HTTP 200, the
    body's code, as litellm reports it), its JSON body and its response (headers, text)."""
    found = body if isinstance(body, dict) else None
    if found is None and content:
        found = json_in(content.decode("utf-8", "replace"))
    error = error_object(found) if found is not None else None
    said = orjson.dumps(body).decode()[:500] if body is not None else ""
    return UpstreamFailure(
        from_parts(
            status_code, error, lambda: f"HTTP {response.status}: {said}".strip(), response.headers
        )
    )


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
        raise unreachable(TIMED_OUT) from exc
    except aiohttp.ClientError as exc:
        raise unreachable(CONNECTION_ERROR) from exc


async def check_stream(response: aiohttp.ClientResponse) -> None:
    """Raise the platform's error, or its answer that came as no stream."""
    if response.status >= 400 or not _is_event_stream(response):
        content = await _read(response)
        _answer(response, content)  # raises: an error, or an answer that is no stream
        raise refused(response.status, None, response, content)


class Chunks:
    """A streamed answer: `chat.completion.chunk` objects until `[DONE]`."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self._reader = EventReader(response)

    def __aiter__(self) -> Chunks:
        return self

    def arrived(self) -> bool:
        """Whether the next event is here already: events that arrived together can leave in
        one write."""
        return b"data:" in self._reader.rest

    async def __anext__(self) -> Wire:
        data = await self._reader.next_data()
        if data is None or data == DONE:
            raise StopAsyncIteration
        body = orjson.loads(data)
        if isinstance(body, dict) and "error" in body and not body.get("choices"):
            raise refused(code_of(body), body, self._response)
        return Wire(body)

    async def aclose(self) -> None:
        # The connection goes back to the pool when the answer was read to its end, else closes.
        self._response.release()


class Wire:
    """Attribute access and setting over a JSON object, as litellm's response objects give it."""

    __slots__ = ("_data",)
    _data: dict[str, Any]

    def __init__(self, data: dict[str, Any]) -> None:
        object.__setattr__(self, "_data", data)

    def __getattr__(self, name: str) -> Any:
        return _wrap(self._data.get(name))

    def __setattr__(self, name: str, value: Any) -> None:
        self._data[name] = value

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
        raise unreachable(TIMED_OUT) from exc
    except aiohttp.ClientError as exc:
        raise unreachable(CONNECTION_ERROR) from exc
    finally:
        response.release()


def _answer(response: aiohttp.ClientResponse, content: bytes) -> dict[str, Any]:
    """The answer's JSON, or the platform's error raised."""
    try:
        data = orjson.loads(content)
    except orjson.JSONDecodeError:
        data = None
    if response.status >= 400:
        raise refused(response.status, data, response, content)
    if not isinstance(data, dict):
        raise unreachable("The platform's answer was not JSON.")
    if data.get("error") and not data.get("choices"):  # (a Responses answer says error: null)
        raise refused(code_of(data), data, response, content)
    return data


def code_of(data: dict[str, Any]) -> int | str | None:
    error = data.get("error")
    code = error.get("code") if isinstance(error, dict) else error
    return code if isinstance(code, int | str) else None


def _is_event_stream(response: aiohttp.ClientResponse) -> bool:
    return response.headers.get("content-type", "").startswith("text/event-stream")
