"""A platform's event stream read from its aiohttp response: blocks of whole server-sent events
with LF line ends, and the data of each event. The one reader of the lean path's streams, for the
byte relay (calls/byte_stream.py) and the parsed chunks (passthrough.Chunks) alike.

A failed read raises the service's `UpstreamFailure` (the connection's, `transport`)."""

from __future__ import annotations

import aiohttp

from app.services.oauth.adapters.errors import unreachable

CONNECTION_ERROR = "Connection error."
TIMED_OUT = "Request timed out."
DONE = b"[DONE]"


class EventReader:
    """Blocks of whole events as they arrive (CRLF and CR line ends made LF)."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._reads = response.content.iter_any()
        self._pending = b""
        self._ended = False
        self.rest = b""
        """The events of the last block that `next_data` has not taken yet."""

    async def next_data(self) -> bytes | None:
        """The data of the next event that has some, or None at the end of the stream."""
        while True:
            if not self.rest:
                block = await self.block()
                if block is None:
                    return None
                self.rest = block
            data, self.rest = first_event(self.rest)
            if data is not None:
                return data

    async def block(self) -> bytes | None:
        """The next run of whole events, or None at the end of the stream."""
        while True:
            cut = self._pending.rfind(b"\n\n")
            if cut >= 0:
                block, self._pending = self._pending[: cut + 2], self._pending[cut + 2 :]
                return block
            if self._ended:
                block, self._pending = self._pending, b""
                return block + b"\n\n" if block.strip() else None
            await self._receive()

    async def _receive(self) -> None:
        try:
            received = await self._reads.__anext__()
        except StopAsyncIteration:
            self._ended = True
            if self._pending.endswith(b"\r"):
                self._pending = self._pending[:-1] + b"\n"
            return
        except TimeoutError as exc:
            raise unreachable(TIMED_OUT) from exc
        except aiohttp.ClientError as exc:
            raise unreachable(CONNECTION_ERROR) from exc
        carried = self._pending.endswith(b"\r")  # the last read's CR, maybe a CRLF's first half
        pending = self._pending + received
        if carried or b"\r" in received:  # CRLF or CR line ends: LF, but a CR last may begin a CRLF
            carry = pending.endswith(b"\r")
            body = pending[:-1] if carry else pending
            pending = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n") + (b"\r" if carry else b"")
        self._pending = pending


def first_event(block: bytes) -> tuple[bytes | None, bytes]:
    """The data of the block's first event (None for one without data) and the rest."""
    end = block.find(b"\n\n")
    event, rest = (block, b"") if end < 0 else (block[:end], block[end + 2 :])
    if event.startswith(b"data: ") and b"\n" not in event:
        return event[6:], rest
    lines = [line[5:] for line in event.split(b"\n") if line.startswith(b"data:")]
    if not lines:
        return None, rest  # a comment, or an event without data
    return b"\n".join(line[1:] if line.startswith(b" ") else line for line in lines), rest


def event_data(block: bytes) -> list[bytes]:
    """The data of each event in a block of whole events (`[DONE]` aside)."""
    found = []
    rest = block
    while rest:
        data, rest = first_event(rest)
        if data is not None and data != DONE:
            found.append(data)
    return found
