"""The lean path's streams relayed as bytes: the platform's `chat.completion.chunk` events go to
the caller as they arrived, whole events only, without decoding and encoding each one.

What the call needs from a stream is read from the bytes, not from parsed chunks:

    the first byte of answer   the events before it are parsed (a handful per call) to know when
                               failover ends; the first content event and all after go as bytes
    the usage                  only an event with a `"usage":` that is not null is parsed
    an error event             only an event with an `"error"` key (or string) is parsed
    `data: [DONE]`             ends the relay (the call path sends its own after the books)

A block of events arrived together goes out as it is when it is plain OpenAI framing (each event
one `data: ` line, `\\n\\n` after it) and holds none of the above; anything else (CRLF line ends,
comments, `event:` lines, data split over lines) is re-framed event by event. What was relayed
is kept by reference until the stream ends (up to stream_relay.KEEP_BYTES): its words are
counted only when the platform reported no usage. Nothing is read ahead of the caller: the next
block is read when the caller has taken the last, so a slow reader slows the platform's
connection (TCP backpressure) rather than filling memory.

Parsed chunks (passthrough.Chunks) remain for surfaces that translate them into other events;
calls/stream_relay.py closes the stream either way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import aiohttp
import orjson

from app.services.calls import passthrough, responses
from app.services.calls.passthrough import Wire
from app.services.calls.usage import usage_of

if TYPE_CHECKING:
    from app.services.calls.stream_relay import Tally

_USAGE = b'"usage":'
_NO_USAGE = b'"usage":null'
_ERROR = b'"error"'
_DONE = b"[DONE]"


class ByteStream:
    """A streamed answer as blocks of whole SSE events (bytes), noting usage in `tally`."""

    def __init__(self, response: aiohttp.ClientResponse, tally: Tally, *, with_usage: bool):
        self._response = response
        self._reads = response.content.iter_any()
        self._tally = tally
        self._with_usage = with_usage
        self._pending = b""
        self._ended = False
        self._done = False
        self._failed: Exception | None = None
        self._held = b""
        self._block = b""
        """Events read by `open` and not yet passed on."""

    async def open(self, max_events: int) -> bool:
        """Read until an event carries the answer (at most `max_events`): until then an error
        event raises, for failover. What was read is held for the caller. True when it ended."""
        held: list[bytes] = []
        for _ in range(max_events):
            data = await self._next_data()
            if data is None or data == _DONE:
                self._done = True
                break
            chunk = self._parse(data)
            held.append(self._framed(data, chunk))
            if responses.carries_answer(chunk):
                break
        if self._block:  # the rest of the events that arrived with them
            held.append(self._pass(self._block))
            self._block = b""
        self._held = b"".join(held)
        return self._done

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._blocks()

    async def _blocks(self) -> AsyncIterator[bytes]:
        if self._held:
            self._tally.keep(self._held)
            yield self._held
            self._held = b""
        while not self._done and self._failed is None:
            block = await self._read_block()
            if block is None:
                break
            out = self._pass(block)
            if out:
                self._tally.keep(out)
                yield out
        if self._failed is not None:
            raise self._failed

    async def aclose(self) -> None:
        # The connection goes back to the pool when the answer was read to its end, else closes.
        self._response.release()

    # --- reading ---

    async def _next_data(self) -> bytes | None:
        while True:
            if not self._block:
                block = await self._read_block()
                if block is None:
                    return None
                self._block = block
            data, self._block = _first_event(self._block)
            if data is not None:
                return data

    async def _read_block(self) -> bytes | None:
        """The next run of whole events (LF line ends), or None at the end of the stream."""
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
            raise passthrough.Timeout(passthrough.TIMED_OUT) from exc
        except aiohttp.ClientError as exc:
            raise passthrough.APIConnectionError(passthrough.CONNECTION_ERROR) from exc
        pending = self._pending + received
        if b"\r" in received:  # CRLF or CR line ends: LF, but a CR last may begin a CRLF
            carry = pending.endswith(b"\r")
            body = pending[:-1] if carry else pending
            pending = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n") + (b"\r" if carry else b"")
        self._pending = pending

    # --- passing events on ---

    def _pass(self, block: bytes) -> bytes:
        """The block as the caller gets it: as it is when plain, else event by event."""
        if _plain(block):
            return block
        out: list[bytes] = []
        rest = block
        while rest and not self._done and self._failed is None:
            data, rest = _first_event(rest)
            if data is None:
                continue
            if data == _DONE:
                self._done = True
            elif not _needs_reading(data):
                out.append(b"data: " + data + b"\n\n")
            else:
                try:
                    chunk = self._parse(data)
                except passthrough.UpstreamHTTPError as exc:
                    self._failed = exc  # raised once the events before it are out
                else:
                    out.append(self._framed(data, chunk))
        return b"".join(out)

    def _parse(self, data: bytes) -> Wire:
        """A chunk read for what it says: its usage noted, an error event raised."""
        body = orjson.loads(data)
        if isinstance(body, dict) and "error" in body and not body.get("choices"):
            raise passthrough.UpstreamHTTPError(
                passthrough.code_of(body), body, passthrough.answered(self._response)
            )
        chunk = Wire(body)
        reported = usage_of(chunk)
        if reported is not None:
            self._tally.usage = reported
        return chunk

    def _framed(self, data: bytes, chunk: Wire) -> bytes:
        """A parsed chunk's event: as it came, unless it carries usage the caller did not ask for
        (without it, or nothing for a usage-only chunk, as OpenAI sends it)."""
        if getattr(chunk, "usage", None) is None or self._with_usage:
            return b"data: " + data + b"\n\n"
        body = responses.chunk_body(chunk, with_usage=False)
        return responses.sse(body) if body is not None else b""


def _plain(block: bytes) -> bool:
    """Whole events, each one `data: ` line, none with usage, an error or the end."""
    events = block.count(b"\n\n")
    return (
        block.startswith(b"data: ")
        and block.count(b"\n") == 2 * events
        and block.count(b"\n\ndata: ") == events - 1
        and _ERROR not in block
        and _DONE not in block
        and block.count(_USAGE) == block.count(_NO_USAGE)
    )


def _needs_reading(data: bytes) -> bool:
    return _ERROR in data or data.count(_USAGE) != data.count(_NO_USAGE)


def _first_event(block: bytes) -> tuple[bytes | None, bytes]:
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
        data, rest = _first_event(rest)
        if data is not None and data != _DONE:
            found.append(data)
    return found


async def open_stream(
    http: aiohttp.ClientSession, tally: Tally, *, with_usage: bool, **arguments: Any
) -> ByteStream:
    """The lean path's `acompletion(stream=True)`, answering with the stream's bytes."""
    response = await passthrough.send(http, arguments)
    await passthrough.check_stream(response)
    return ByteStream(response, tally, with_usage=with_usage)
