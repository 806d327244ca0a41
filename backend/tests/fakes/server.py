"""Serve an ASGI app on a free 127.0.0.1 port from a background thread.

Fake platforms, OAuth servers and console sites are real HTTP servers: the code under test
reaches them over loopback exactly as it would reach the vendor.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import uvicorn


class BackgroundServer:
    """One uvicorn server on its own thread and event loop."""

    def __init__(self, app: Any, host: str = "127.0.0.1", *, lifespan: str = "off") -> None:
        # IPPROTO_TCP: asyncio only sets TCP_NODELAY on such sockets (else +40 ms a reply).
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, 0))
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan=lifespan,
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._socket.close()


@contextmanager
def serve(app: Any) -> Iterator[BackgroundServer]:
    """Run `app` (a fake, without start-up) for the duration of the block; yields the server
    (use `.url`)."""
    server = BackgroundServer(app).start()
    try:
        yield server
    finally:
        server.stop()


@asynccontextmanager
async def serve_service(app: Any) -> AsyncIterator[BackgroundServer]:
    """Run the service `app`, start-up and shutdown included (on the server's own event loop),
    for the duration of the block.

    Its start-up writes to the database: on SQLite it waits for the write lock, which a task still
    under way on the caller's event loop may hold. The loop keeps running while the server
    starts and stops, so that task can finish and let go."""
    server = BackgroundServer(app, lifespan="on")
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)
