"""The lean path honours the environment's proxy settings as the httpx client does: a platform
behind HTTP_PROXY or HTTPS_PROXY is called through the proxy (with the credentials its URL
carries, and for HTTPS only on the tunnel's CONNECT), and a host NO_PROXY names directly."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator

import orjson
import pytest
from aiohttp.resolver import DefaultResolver

from app.services.calls import passthrough
from app.services.oauth.adapters.errors import UpstreamFailure

PLATFORM = "platform.invalid"  # resolves nowhere: only a proxy can answer for it
PROXY_AUTH = "Basic " + base64.b64encode(b"relay:s3cret").decode()
ANSWER = {
    "id": "chatcmpl-proxy",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "via proxy"},
                 "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
}  # fmt: skip


class Proxy:
    """A forward proxy on 127.0.0.1 that keeps what it was asked (the request line and the
    headers), answers plain requests itself and refuses tunnels."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in head[1:] if line)
        headers = {name.lower(): value for name, value in headers.items()}
        await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append((head[0], headers))
        if head[0].startswith("CONNECT "):
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        body = orjson.dumps(ANSWER)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()


@pytest.fixture
async def proxy(monkeypatch) -> AsyncIterator[tuple[Proxy, int]]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    passthrough.proxy_for.cache_clear()
    found = Proxy()
    server = await asyncio.start_server(found.serve, "127.0.0.1", 0)
    async with server:
        yield found, server.sockets[0].getsockname()[1]
    passthrough.proxy_for.cache_clear()


async def call(scheme: str = "http") -> object:
    async with passthrough.pool(DefaultResolver()) as http:
        return await passthrough.acompletion(
            http,
            model="openai/m",
            api_base=f"{scheme}://{PLATFORM}/v1",
            api_key="sk-platform-key",
            messages=[{"role": "user", "content": "hi"}],
            timeout=10,
        )


async def test_a_platform_behind_the_environments_proxy_is_called_through_it(proxy, monkeypatch):
    found, port = proxy
    monkeypatch.setenv("HTTP_PROXY", f"http://relay:s3cret@127.0.0.1:{port}")

    answer = await call()

    assert answer.model_dump() == ANSWER
    [(line, headers)] = found.requests
    assert line == "POST http://platform.invalid/v1/chat/completions HTTP/1.1"
    assert headers["authorization"] == "Bearer sk-platform-key"
    assert headers["proxy-authorization"] == PROXY_AUTH


async def test_an_https_platform_is_tunnelled_and_only_the_tunnel_carries_the_proxys_login(
    proxy, monkeypatch
):
    found, port = proxy
    monkeypatch.setenv("HTTPS_PROXY", f"http://relay:s3cret@127.0.0.1:{port}")

    with pytest.raises(UpstreamFailure):
        await call("https")  # this proxy refuses tunnels
    [(line, headers)] = found.requests
    assert line == "CONNECT platform.invalid:443 HTTP/1.1"
    assert headers["proxy-authorization"] == PROXY_AUTH
    assert "authorization" not in headers  # the platform's key goes only inside the tunnel


async def test_a_host_no_proxy_names_is_called_directly(proxy, monkeypatch):
    found, port = proxy
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("NO_PROXY", "platform.invalid")

    with pytest.raises(UpstreamFailure):
        await call()  # directly: platform.invalid has no address
    assert found.requests == []
