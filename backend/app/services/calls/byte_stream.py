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
from app.services.calls.sse import DONE, EventReader, first_event
from app.services.calls.usage import usage_of
from app.services.oauth.adapters.errors import UpstreamFailure

if TYPE_CHECKING:
    from app.services.calls.stream_relay import Tally

_USAGE = b'"usage":'
_NO_USAGE = b'"usage":null'
_ERROR = b'"error"'


class ByteStream:
    """A streamed answer as blocks of whole SSE events (bytes), noting usage in `tally`."""

    def __init__(self, response: aiohttp.ClientResponse, tally: Tally, *, with_usage: bool):
        self._response = response
        self._reader = EventReader(response)
        self._tally = tally
        self._with_usage = with_usage
        self._done = False
        self._failed: Exception | None = None
        self._held = b""

    async def open(self, max_events: int) -> bool:
        """Read until an event carries the answer (at most `max_events`): until then an error
        event raises, for failover. What was read is held for the caller. True when it ended."""
        held: list[bytes] = []
        for _ in range(max_events):
            data = await self._reader.next_data()
            if data is None or data == DONE:
                self._done = True
                break
            chunk = self._parse(data)
            held.append(self._framed(data, chunk))
            if responses.carries_answer(chunk):
                break
        if self._reader.rest:  # the rest of the events that arrived with them
            held.append(self._pass(self._reader.rest))
            self._reader.rest = b""
        self._held = b"".join(held)
        return self._done

    def finished(self) -> bool:
        """Whether the platform's stream has said its end (`[DONE]`, or it closed while
        opening): nothing more will be read."""
        return self._done

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._blocks()

    async def _blocks(self) -> AsyncIterator[bytes]:
        if self._held:
            self._tally.keep(self._held)
            yield self._held
            self._held = b""
        while not self._done and self._failed is None:
            block = await self._reader.block()
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

    # --- passing events on ---

    def _pass(self, block: bytes) -> bytes:
        """The block as the caller gets it: runs of plain events as they are, the events that
        need reading one by one (every event, when the framing is not OpenAI's)."""
        if not _plain_framing(block):
            return self._event_by_event(block)
        out: list[bytes] = []
        while block and not self._done and self._failed is None:
            special = _first_special(block)
            if special < 0:
                out.append(block)
                break
            start = block.rfind(b"\n\n", 0, special) + 2  # 1: it is in the first event
            if start > 1:  # the plain events before it
                out.append(block[:start])
                block = block[start:]
            data, block = first_event(block)
            self._take(data, out)
        return b"".join(out)

    def _event_by_event(self, block: bytes) -> bytes:
        out: list[bytes] = []
        while block and not self._done and self._failed is None:
            data, block = first_event(block)
            self._take(data, out)
        return b"".join(out)

    def _take(self, data: bytes | None, out: list[bytes]) -> None:
        """One event: the end, as it came, or read (its usage noted, an error kept to raise)."""
        if data is None:
            return
        if data == DONE:
            self._done = True
        elif not _needs_reading(data):
            out.append(b"data: " + data + b"\n\n")
        else:
            try:
                chunk = self._parse(data)
            except UpstreamFailure as exc:
                self._failed = exc  # raised once the events before it are out
            else:
                out.append(self._framed(data, chunk))

    def _parse(self, data: bytes) -> Wire:
        """A chunk read for what it says: its usage noted, an error event raised."""
        body = orjson.loads(data)
        if isinstance(body, dict) and "error" in body and not body.get("choices"):
            raise passthrough.refused(passthrough.code_of(body), body, self._response)
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


def _plain_framing(block: bytes) -> bool:
    """Whole events, each one `data: ` line and a blank line."""
    events = block.count(b"\n\n")
    return (
        block.startswith(b"data: ")
        and block.count(b"\n") == 2 * events
        and block.count(b"\n\ndata: ") == events - 1
    )


def _first_special(block: bytes) -> int:
    """Where the first error, `[DONE]` or usage that is not null is, or -1."""
    usage = block.find(_USAGE)
    while usage >= 0 and block.startswith(b"null", usage + len(_USAGE)):
        usage = block.find(_USAGE, usage + 1)
    found = [at for at in (block.find(_ERROR), block.find(DONE), usage) if at >= 0]
    return min(found, default=-1)


def _needs_reading(data: bytes) -> bool:
    return _ERROR in data or data.count(_USAGE) != data.count(_NO_USAGE)


async def open_stream(
    http: aiohttp.ClientSession, tally: Tally, *, with_usage: bool, **arguments: Any
) -> ByteStream:
    """The lean path's `acompletion(stream=True)`, answering with the stream's bytes."""
    response = await passthrough.send(http, arguments)
    await passthrough.check_stream(response)
    return ByteStream(response, tally, with_usage=with_usage)
