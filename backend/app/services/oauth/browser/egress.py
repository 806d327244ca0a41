"""A per-login HTTP proxy that lets the browser reach only the platform's allowed domains.

Playwright's request routing never sees the hops of a redirect, so an allowed page could still
redirect the browser (or an image, a fetch) anywhere. Every connection of a login's context goes
through this proxy instead, loopback included, and the proxy refuses any host outside the list:
CONNECT tunnels (HTTPS, WebSockets) by host, plain HTTP request by request, one request per
connection so that a reused connection cannot carry a request to another host.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from contextlib import suppress
from urllib.parse import urlsplit

from app.core.outbound import is_public
from app.services.oauth.browser.guard import is_ip

logger = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024
CONNECT_TIMEOUT_S = 15
_HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "proxy-authorization"}


class EgressProxy:
    """Listens on 127.0.0.1 (an ephemeral port) for one browser context."""

    def __init__(
        self,
        allowed: Callable[[str, int], bool],
        on_blocked: Callable[[str], None],
        *,
        allow_private: bool = False,
    ) -> None:
        self._allowed = allowed
        self._allow_private = allow_private
        self._on_blocked = on_blocked
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> str:
        """Start listening; returns the proxy's URL for Playwright's `proxy.server`."""
        self._server = await asyncio.start_server(
            self._serve, host="127.0.0.1", port=0, limit=MAX_HEAD_BYTES
        )
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        """Stop listening and drop every open connection."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=5)
        if self._server is not None:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), timeout=5)
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self._writers.add(writer)
        try:
            await self._handle(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass  # a client or upstream that went away, or a malformed request
        finally:
            self._connections.discard(task)
            await self._close(writer)

    async def _address(self, host: str, port: int) -> str | None:
        """The address to connect to: an allowed name must resolve to public addresses only
        (unless OUTBOUND_ALLOW_PRIVATE); an address listed in the allow-list is taken as it is.
        The proxy connects to the address it checked, so a second lookup cannot swap it."""
        if is_ip(host):
            return host
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = [str(entry[4][0]) for entry in found]
        if not self._allow_private and not all(is_public(a) for a in addresses):
            return None
        return addresses[0] if addresses else None

    async def _open(
        self, address: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(address, port, limit=MAX_HEAD_BYTES), CONNECT_TIMEOUT_S
        )
        self._writers.add(writer)
        return reader, writer

    async def _close(self, writer: asyncio.StreamWriter) -> None:
        self._writers.discard(writer)
        writer.close()
        with suppress(OSError):
            await writer.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        method, target, version = request_line.split(" ", 2)
        if method.upper() == "CONNECT":
            host, _, port_text = target.rpartition(":")
            host, port = host.strip("[]"), int(port_text)
            address = await self._admitted(host, port, f"https://{host}:{port}/")
            if address is None:
                await _refuse(writer)
                return
            upstream_reader, upstream_writer = await self._open(address, port)
            try:
                writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                await writer.drain()
                await _pipe_both(reader, writer, upstream_reader, upstream_writer)
            finally:
                await self._close(upstream_writer)
            return
        url = urlsplit(target)
        if url.scheme != "http" or not url.hostname:
            await _refuse(writer)
            return
        address = await self._admitted(url.hostname, url.port or 80, target)
        if address is None:
            await _refuse(writer)
            return
        upstream_reader, upstream_writer = await self._open(address, url.port or 80)
        try:
            await self._forward(
                url.path,
                url.query,
                method,
                version,
                header_lines,
                reader,
                writer,
                upstream_reader,
                upstream_writer,
            )
        finally:
            await self._close(upstream_writer)

    async def _admitted(self, host: str, port: int, url: str) -> str | None:
        """The address to reach `host:port` at, or None (recorded as blocked)."""
        address = await self._address(host, port) if self._allowed(host, port) else None
        if address is None:
            self._on_blocked(url)
        return address

    async def _forward(
        self,
        path: str,
        query: str,
        method: str,
        version: str,
        header_lines: list[str],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream_reader: asyncio.StreamReader,
        upstream_writer: asyncio.StreamWriter,
    ) -> None:
        target = (path or "/") + (f"?{query}" if query else "")
        upstream_writer.write(_head(f"{method} {target} {version}", header_lines))
        await upstream_writer.drain()
        # The request body (if any) flows while the response is awaited.
        body = asyncio.ensure_future(_copy(reader, upstream_writer))
        try:
            response_head = await upstream_reader.readuntil(b"\r\n\r\n")
            status_line, *response_headers = response_head[:-4].decode("latin-1").split("\r\n")
            # "Connection: close" both ways: the browser never reuses this connection for a
            # request to another host.
            writer.write(_head(status_line, response_headers))
            await writer.drain()
            await _copy(upstream_reader, writer)
        finally:
            body.cancel()
            await asyncio.gather(body, return_exceptions=True)


def _head(first_line: str, header_lines: list[str]) -> bytes:
    kept = [h for h in header_lines if h.split(":", 1)[0].strip().lower() not in _HOP_HEADERS]
    return "\r\n".join([first_line, *kept, "Connection: close", "", ""]).encode("latin-1")


async def _refuse(writer: asyncio.StreamWriter) -> None:
    body = b"Blocked: this host is not among the platform's allowed domains.\n"
    writer.write(
        b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()


async def _pipe_both(
    client_reader: asyncio.StreamReader,
    client_writer: asyncio.StreamWriter,
    upstream_reader: asyncio.StreamReader,
    upstream_writer: asyncio.StreamWriter,
) -> None:
    """Copy both ways until either side closes."""
    tasks = [
        asyncio.ensure_future(_copy(client_reader, upstream_writer)),
        asyncio.ensure_future(_copy(upstream_reader, client_writer)),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with suppress(OSError):
        while chunk := await reader.read(65_536):
            writer.write(chunk)
            await writer.drain()
