"""Hand-paced ASGI responses: streams sent event by event, waits that notice a hang-up, and
connections killed mid-message.

Starlette's responses always finish the HTTP message; a fake vendor must also be able to stop
half-way, so these helpers talk to uvicorn's `send` directly.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.types import Receive, Send

from .wire import dumps


class RawSender:
    """Thin wrapper over ASGI `send` for bodies sent piece by piece."""

    def __init__(self, send: Send) -> None:
        self._send = send

    async def start(
        self, status: int, media_type: str, headers: Mapping[str, str] | None = None
    ) -> None:
        raw = [(b"content-type", media_type.encode())]
        raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        await self._send({"type": "http.response.start", "status": status, "headers": raw})

    async def json(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        data = dumps(body)
        await self.start(
            status, "application/json", {"content-length": str(len(data)), **(headers or {})}
        )
        await self._send({"type": "http.response.body", "body": data, "more_body": False})

    async def start_stream(self, headers: Mapping[str, str] | None = None) -> None:
        await self.start(200, "text/event-stream", {"cache-control": "no-cache", **(headers or {})})

    async def events(self, events: Sequence[bytes]) -> None:
        for event in events:
            await self._send({"type": "http.response.body", "body": event, "more_body": True})

    async def end(self) -> None:
        await self._send({"type": "http.response.body", "body": b"", "more_body": False})


async def sleep_unless_disconnected(delay: float, receive: Receive) -> bool:
    """Sleep `delay` seconds; True if the client hung up first (the caller then stops, so an
    abandoned slow answer never holds up the server's shutdown). The request body must already
    have been read."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.ensure_future(disconnected())
    try:
        done, _ = await asyncio.wait({watcher}, timeout=delay)
    finally:
        watcher.cancel()
    return watcher in done


async def abort_connection(send: Send, *, reset: bool) -> None:
    """Close the TCP connection without finishing the HTTP message.

    ASGI has no "abort" message, and an exception before the response starts makes uvicorn send
    a clean 500, so this reaches the transport through uvicorn's bound `send` (a method of its
    RequestResponseCycle, which holds `transport`). Bytes already written are flushed first so
    the client sees exactly the chunks sent; `reset` sets SO_LINGER 0 so the close is a TCP RST
    instead of a FIN.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise RuntimeError("Drop needs uvicorn's transport: serve the fake with tests.fakes.server")
    for _ in range(1000):  # bounded: a client that stops reading must not hang the fake
        if not transport.get_write_buffer_size() or transport.is_closing():
            break
        await asyncio.sleep(0.001)
    if reset:
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    await asyncio.sleep(0)  # let uvicorn see connection_lost, so it logs no "incomplete response"
