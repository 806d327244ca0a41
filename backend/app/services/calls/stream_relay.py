"""A stream's way to the caller once its first byte of answer is out: the events, then the books,
then the last events — an error event for a failure after the first byte (no failover is
possible any more), our own usage chunk when the platform reported none and the caller asked,
and `data: [DONE]`.

The events come one of two ways: as the platform's bytes (calls/byte_stream.py, the lean path)
or as parsed chunks made into events by a `StreamFormat`: OpenAI's `chat.completion.chunk`
events here (litellm's streams), another API's events for the surfaces that speak it
(app/services/surfaces/). The format also words the last events: the error event, the usage.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio
import orjson

from app.services.calls import refusals, responses
from app.services.calls.passthrough import Wire
from app.services.calls.sse import event_data
from app.services.calls.usage import TokenUsage, usage_of
from app.services.oauth.adapters.errors import Classified

logger = logging.getLogger(__name__)

MAX_HELD_CHUNKS = 8
"""Events read, at most, before a stream's first byte of answer: until then it can fail over."""

KEEP_BYTES = 64 * 1024
"""A byte-relayed stream keeps this much of its events until it ends, to count their words when
the platform reports no usage; the rest of a longer answer is counted in proportion."""


@dataclass
class Tally:
    """What a stream delivered, for its books and its last events."""

    usage: TokenUsage | None = None
    """What the platform reported."""
    charged: TokenUsage | None = None
    """What was recorded (the report, else a local count)."""
    texts: list[str] = field(default_factory=list)
    relayed: list[bytes] = field(default_factory=list)
    """Events relayed as bytes (the first KEEP_BYTES of them), parsed for their words only when
    no usage was reported."""
    kept_bytes: int = 0
    unkept_bytes: int = 0
    failure: Classified | None = None
    last: Any = None

    def keep(self, block: bytes) -> None:
        """Note relayed events; past KEEP_BYTES only their size, so memory stays bounded."""
        if self.kept_bytes < KEEP_BYTES:
            self.relayed.append(block)
            self.kept_bytes += len(block)
        else:
            self.unkept_bytes += len(block)

    def extrapolated(self, counted: TokenUsage) -> TokenUsage:
        """A local count of the kept events, its answer scaled to every byte relayed."""
        if not self.unkept_bytes or not self.kept_bytes:
            return counted
        share = (self.kept_bytes + self.unkept_bytes) / self.kept_bytes
        return TokenUsage(counted.prompt_tokens, round(counted.completion_tokens * share))

    def answer_text(self) -> str:
        relayed = (responses.chunk_text(chunk) for chunk in chunks_of(self.relayed))
        return "".join(self.texts) + "".join(relayed)

    def last_chunk(self) -> Any:
        if self.last is not None or not self.relayed:
            return self.last
        last = chunks_of(self.relayed[-1:])
        return last[-1] if last else None


class StreamFormat(Protocol):
    """The events of one API's stream, made from the platform's parsed chunks."""

    def events(self, chunk: Any, tally: Tally) -> bytes:
        """The chunk's events (b"" for none); what it says of usage and text noted in `tally`."""
        ...

    def failed(self, message: str, code: str) -> bytes:
        """The events that end a stream which failed after its first byte."""
        ...

    def ended(self, tally: Tally) -> bytes:
        """The events that end a whole answer, once its books are written."""
        ...


class ChatChunks:
    """OpenAI's `chat.completion.chunk` events, `data: [DONE]` last."""

    def __init__(self, *, include_usage: bool) -> None:
        self.include_usage = include_usage

    def events(self, chunk: Any, tally: Tally) -> bytes:
        note(chunk, tally)
        body = responses.chunk_body(chunk, with_usage=self.include_usage)
        return responses.sse(body) if body is not None else b""

    def failed(self, message: str, code: str) -> bytes:
        return responses.error_event(message, "server_error", code) + responses.DONE

    def ended(self, tally: Tally) -> bytes:
        if self.include_usage and tally.usage is None and tally.charged is not None:
            # The platform reported no usage: the caller who asked gets our count.
            usage = responses.usage_chunk(tally.last_chunk(), tally.charged)
            return responses.sse(usage) + responses.DONE
        return responses.DONE


@dataclass(frozen=True)
class Ending:
    """How the call path closes a stream's books and words its failures."""

    platform_name: str
    format: StreamFormat
    settle: Callable[[Tally], Awaitable[None]]
    """Write the books of what the stream delivered (sets `charged`)."""
    classify: Callable[[Exception], Classified]


async def relay(
    stream: Any, events: AsyncIterable[bytes], tally: Tally, ending: Ending
) -> AsyncIterator[bytes]:
    settled = False
    # A stream that says its end itself (the byte relay, on `[DONE]`): the events that came with
    # the end leave with the last events, in one write rather than two.
    finished = getattr(stream, "finished", lambda: False)
    last: list[bytes] = []
    try:
        try:
            async for block in events:
                if finished():
                    last.append(block)
                else:
                    yield block
        except Exception as exc:  # after the first byte: no failover, an error event
            tally.failure = ending.classify(exc)
        # The books close before the last events: a caller that has read them sees its usage
        # and the account's new state.
        settled = True
        booked = await _close(stream, tally, ending)
        if not booked:
            last.append(
                ending.format.failed(
                    "The answer is complete but its usage could not be recorded: the service's "
                    "database is unavailable. Treat this answer as failed.",
                    "database_unavailable",
                )
            )
        elif tally.failure is not None:
            failure = tally.failure
            what = refusals.WORDS[failure.kind]
            message = f"{ending.platform_name} {what} during the answer: {failure.message}"
            last.append(ending.format.failed(message, failure.kind))
        else:
            last.append(ending.format.ended(tally))
        yield b"".join(last)
    finally:
        if not settled:  # the caller hung up (or was cancelled) mid-answer
            await _close(stream, tally, ending)


async def _close(stream: Any, tally: Tally, ending: Ending) -> bool:
    """Close the upstream and the books; False when the books could not be written."""
    # Shielded: when the caller hangs up the task is cancelled, and the books must still close.
    with anyio.CancelScope(shield=True):
        try:
            await stream.aclose()
            await ending.settle(tally)
        except Exception:
            logger.exception("settling a stream on %s failed", ending.platform_name)
            return False
    return True


async def chunk_events(
    stream: Any,
    held: list[Any],
    ended: bool,
    tally: Tally,
    format: StreamFormat,
    served: str | None = None,
) -> AsyncIterator[bytes]:
    """Parsed chunks as the format's events, noted in `tally`. Events go out as soon as no
    further one has arrived with them (the lean path's parsed stream says; litellm's do not):
    events read together leave in one write, none waits. `served`: the model of litellm's
    chunks, whose `model` each chunk then names (`responses.served_model`)."""
    arrived = getattr(stream, "arrived", lambda: False)
    out: list[bytes] = []
    try:
        for chunk in held:
            _named(chunk, served)
            _add(out, format.events(chunk, tally))
        while not ended:
            if out and not arrived():
                yield b"".join(out)
                out.clear()
            try:
                chunk = await stream.__anext__()
            except StopAsyncIteration:
                break
            _named(chunk, served)
            _add(out, format.events(chunk, tally))
    except Exception:
        if out:  # what arrived before the failure
            yield b"".join(out)
        raise
    if out:
        yield b"".join(out)


def _named(chunk: Any, served: str | None) -> None:
    if served is not None:
        chunk.model = responses.served_model(chunk.model, served)


def _add(out: list[bytes], events: bytes) -> None:
    if events:
        out.append(events)


def note(chunk: Any, tally: Tally) -> None:
    """What a `chat.completion.chunk` says of the usage and the answer's words."""
    reported = usage_of(chunk)
    if reported is not None:
        tally.usage = reported
    text = responses.chunk_text(chunk)
    if text:
        tally.texts.append(text)
    tally.last = chunk


def chunks_of(blocks: list[bytes]) -> list[Wire]:
    """The chunks in blocks of relayed events."""
    chunks = []
    for block in blocks:
        for data in event_data(block):
            chunks.append(Wire(orjson.loads(data)))
    return chunks


async def first_answer(
    stream: Any, carries_answer: Callable[[Any], bool], *, parsed: bool = False
) -> tuple[Any, list[Any], bool]:
    """Read a stream until an event carries the answer (at most MAX_HELD_CHUNKS): until then a
    failure raises, for failover. The events read, and whether the stream ended."""
    held: list[Any] = []
    try:
        while len(held) < MAX_HELD_CHUNKS:
            chunk = await stream.__anext__()
            held.append(chunk)
            if carries_answer(chunk.model_dump(exclude_none=False) if parsed else chunk):
                break
    except StopAsyncIteration:
        return stream, held, True
    except BaseException:
        await stream.aclose()
        raise
    return stream, held, False
