"""The browser's egress proxy checks the port and the resolved address, not only the host name:
another port on an allowed host, and an allowed name that resolves to a private address, are
refused; a listed address and port are reached."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app.services.oauth.browser.egress import EgressProxy
from app.services.oauth.browser.guard import host_allowed, url_allowed
from tests.fakes.server import serve


@pytest.fixture(scope="module")
def site():
    async def hello(_request):
        return PlainTextResponse("inside")

    with serve(Starlette(routes=[Route("/", hello)])) as server:
        yield server.url  # http://127.0.0.1:<port>


@asynccontextmanager
async def proxy(allowed: list[str], *, allow_private: bool = False) -> AsyncIterator[list]:
    blocked: list[str] = []
    egress = EgressProxy(lambda host, port: host_allowed(host, allowed, port), blocked.append,
                         allow_private=allow_private)  # fmt: skip
    url = await egress.start()
    try:
        yield [url, blocked]
    finally:
        await egress.close()


async def fetch(proxy_url: str, target: str) -> bytes:
    """A plain-HTTP request through the proxy, as the browser sends it."""
    host, port = proxy_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer


async def connect(proxy_url: str, target: str) -> bytes:
    host, port = proxy_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    await writer.drain()
    line = await reader.readline()
    writer.close()
    return line


async def test_the_listed_address_and_port_are_reached(site):
    netloc = site.removeprefix("http://")
    async with proxy([netloc]) as (url, blocked):
        assert b"inside" in await fetch(url, f"{site}/")
        assert b"200" in await connect(url, netloc)
    assert blocked == []


async def test_another_port_on_an_allowed_host_is_refused(site):
    netloc = site.removeprefix("http://")
    other = "127.0.0.1:9"  # the same host, another port
    async with proxy([netloc]) as (url, blocked):
        assert b"403" in (await fetch(url, f"http://{other}/")).split(b"\r\n")[0]
        assert b"403" in await connect(url, other)
    assert len(blocked) == 2
    # A listing without a port allows the web's ports only.
    assert host_allowed("console.example.com", ["console.example.com"], 443)
    assert not host_allowed("console.example.com", ["console.example.com"], 22)
    assert not url_allowed("https://console.example.com:8443/", ["console.example.com"])
    assert url_allowed("https://console.example.com:8443/", ["console.example.com:8443"])


async def test_an_allowed_name_that_resolves_to_a_private_address_is_refused(site):
    port = site.rsplit(":", 1)[1]
    async with proxy([f"localhost:{port}"]) as (url, blocked):  # allowed by name: loopback
        assert b"403" in (await fetch(url, f"http://localhost:{port}/")).split(b"\r\n")[0]
        assert b"403" in await connect(url, f"localhost:{port}")
    assert len(blocked) == 2
    async with proxy([f"localhost:{port}"], allow_private=True) as (url, _):
        assert b"inside" in await fetch(url, f"http://localhost:{port}/")
