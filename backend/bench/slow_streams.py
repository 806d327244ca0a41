"""Many slow streams: a bounded load tool on 127.0.0.1 that holds streaming calls open while
reading them slowly, so that a relay that buffered instead of pushing back would show it in
memory. Standard library only (asyncio sockets, HTTP/1.1 by hand), so the tests use it too.

Each client shrinks its socket's receive buffer, sends one chat completion with `stream: true`
and `Connection: close`, notes the time to the first byte of the answer's body, then reads
`trickle_bytes` every `trickle_s` for as long as it is told to hold, then the rest at full speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

RECEIVE_BUFFER = 4096
"""The clients' socket receive buffer: the kernel holds little for a client that does not read."""


@dataclass
class SlowStream:
    """One streaming call read slowly; `body` grows as it is read."""

    first_byte_s: float = float("nan")
    received: int = 0
    tail: bytes = b""
    """The last bytes read (where `[DONE]` must be)."""
    status: int = 0
    error: str = ""

    @property
    def whole(self) -> bool:
        """It answered 200 and ended with `[DONE]` and no error event."""
        return self.status == 200 and b"data: [DONE]" in self.tail and not self.error


@dataclass
class Crowd:
    """Streams opened together and the switch that lets them finish."""

    streams: list[SlowStream] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def first_byte_percentile(self, share: float) -> float:
        times = sorted(s.first_byte_s for s in self.streams if s.status == 200)
        if not times:
            return float("nan")
        return times[min(len(times) - 1, int(share * len(times)))]

    @property
    def whole(self) -> int:
        return sum(stream.whole for stream in self.streams)


def request(url: str, api_key: str, model: str) -> bytes:
    parts = urlsplit(url)
    body = json.dumps(
        {"model": model, "stream": True, "messages": [{"role": "user", "content": "slow"}]}
    ).encode()
    head = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Bearer {api_key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


async def one(
    url: str,
    payload: bytes,
    stream: SlowStream,
    release: asyncio.Event,
    *,
    trickle: tuple[int, float],
) -> None:
    parts = urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    sock.setblocking(False)
    started = time.monotonic()
    loop = asyncio.get_running_loop()
    try:
        await loop.sock_connect(sock, (parts.hostname or "127.0.0.1", parts.port or 80))
        reader, writer = await asyncio.open_connection(sock=sock, limit=RECEIVE_BUFFER)
    except OSError as exc:
        stream.error = f"connect: {exc}"
        return
    try:
        writer.write(payload)
        head = await reader.readuntil(b"\r\n\r\n")
        stream.status = int(head.split(b" ", 2)[1])
        first = await reader.read(1)
        stream.first_byte_s = time.monotonic() - started
        await _read(reader, stream, first, release, trickle)
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        stream.error = f"{type(exc).__name__}: {exc}"
    finally:
        writer.close()


async def _read(
    reader: asyncio.StreamReader,
    stream: SlowStream,
    first: bytes,
    release: asyncio.Event,
    trickle: tuple[int, float],
) -> None:
    size, pause = trickle
    data = first
    while data:
        stream.received += len(data)
        stream.tail = (stream.tail + data)[-64:]
        if b'"error"' in data:
            stream.error = "an error event"
        if release.is_set():
            data = await reader.read(65536)
        else:
            with contextlib.suppress(TimeoutError):  # the pause ran out: read a little
                await asyncio.wait_for(release.wait(), pause)
            data = await reader.read(size)


async def crowd(
    url: str, api_key: str, model: str, count: int, *, trickle: tuple[int, float] = (1024, 0.1)
) -> tuple[Crowd, list[asyncio.Task[None]]]:
    """Open `count` slow streams; they read slowly until `crowd.release` is set."""
    found = Crowd([SlowStream() for _ in range(count)])
    payload = request(url, api_key, model)
    tasks = [
        asyncio.create_task(one(url, payload, stream, found.release, trickle=trickle))
        for stream in found.streams
    ]
    return found, tasks


async def until_first_bytes(found: Crowd, deadline_s: float) -> None:
    """Wait (bounded) until every stream has its first byte or failed."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if all(s.received or s.error or s.status not in (0, 200) for s in found.streams):
            return
        await asyncio.sleep(0.05)


def summary(found: Crowd) -> str:
    times = [s.first_byte_s for s in found.streams if s.status == 200]
    median = statistics.median(times) if times else float("nan")
    return (
        f"{found.whole}/{len(found.streams)} whole, first byte median {median * 1000:.1f} ms, "
        f"p99 {found.first_byte_percentile(0.99) * 1000:.1f} ms"
    )
