"""The lean path's byte relay against a platform on 127.0.0.1 that sends exactly the bytes each
test gives it, in the writes it gives: plain OpenAI framing goes through unchanged and unparsed,
other framings are re-framed, and what the call needs (failover's first byte, usage, an error
event) is read from the bytes."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator

import aiohttp
import orjson
import pytest
from aiohttp.resolver import DefaultResolver

from app.services.calls import byte_stream, passthrough
from app.services.calls.stream_relay import KEEP_BYTES, Tally
from app.services.calls.usage import TokenUsage
from app.services.oauth.adapters.errors import UpstreamFailure
from tests.fakes.server import serve

SCRIPT: list[bytes] = []
"""The writes the platform answers the next call with."""


HOLD = threading.Event()
"""Until set, answers under `/hold` send their first event and wait (under `/apart` they pause
after every write)."""


async def platform(scope, receive, send):  # a bare ASGI app: nothing between test and wire
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    headers = [(b"content-type", b"text/event-stream")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    for n, write in enumerate(SCRIPT):
        await send({"type": "http.response.body", "body": write, "more_body": True})
        if n == 0 and "/hold/" in scope["path"]:
            await asyncio.to_thread(HOLD.wait, 30)  # set by the test, from its own thread
        if "/apart/" in scope["path"]:
            await asyncio.sleep(0.02)  # each write its own read, not joined to the next one
    await send({"type": "http.response.body", "body": b""})


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve(platform) as server:
        yield server.url + "/v1"


def chunk(content: str | None = None, *, role: str | None = None, finish: str | None = None):
    delta = {k: v for k, v in (("role", role), ("content", content)) if v is not None}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


USAGE = {**chunk(), "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 200}}


def event(body, sep: bytes = b"data: ", end: bytes = b"\n\n") -> bytes:
    return sep + json.dumps(body, separators=(",", ":")).encode() + end


def plain_stream(pieces: int) -> list[bytes]:
    return [
        event(chunk("", role="assistant")),
        *(event(chunk(f"w{n} ")) for n in range(pieces)),
        event(chunk(finish="stop")),
        event(USAGE),
        b"data: [DONE]\n\n",
    ]


def call_arguments(base_url: str) -> dict:
    return {
        "model": "openai/m",
        "api_base": base_url,
        "api_key": "k",
        "messages": [],
        "stream": True,
    }


async def relayed(
    base_url: str, writes: list[bytes], *, with_usage: bool = True, apart: bool = False
):
    SCRIPT[:] = writes
    tally = Tally()
    arguments = call_arguments(base_url + "/apart" if apart else base_url)
    async with aiohttp.ClientSession() as http:
        stream = await byte_stream.open_stream(http, tally, with_usage=with_usage, **arguments)
        try:
            await stream.open(8)
            blocks = [block async for block in stream]
        finally:
            await stream.aclose()
    return b"".join(blocks), tally


async def test_plain_events_go_through_as_they_came_without_being_parsed(base_url, monkeypatch):
    parsed = []
    loads = orjson.loads
    monkeypatch.setattr(
        byte_stream.orjson, "loads", lambda data: parsed.append(data) or loads(data)
    )
    writes = plain_stream(200)
    out, tally = await relayed(base_url, writes)
    assert out == b"".join(writes[:-1])  # all but [DONE], byte for byte
    assert tally.usage == TokenUsage(5, 200)
    # The role chunk and the first content chunk (failover's end), and the usage chunk.
    assert len(parsed) == 3
    assert tally.answer_text() == "".join(f"w{n} " for n in range(200))


async def test_only_the_events_that_need_reading_are_taken_apart(base_url, monkeypatch):
    """A usage chunk the caller did not ask for is cut out of a block of 200 events without
    walking the 200 (the role and first content events are read for failover, one by one)."""
    taken = []
    first_event = byte_stream.first_event
    monkeypatch.setattr(
        byte_stream, "first_event", lambda block: taken.append(1) or first_event(block)
    )
    writes = plain_stream(200)
    out, tally = await relayed(base_url, [b"".join(writes)], with_usage=False)
    assert out == b"".join(writes[:-2])  # all but the usage chunk and [DONE]
    assert tally.usage == TokenUsage(5, 200) and len(taken) <= 3


async def test_one_event_per_write_goes_through_whole(base_url):
    writes = plain_stream(20)
    split = [piece for w in writes for piece in (w[:7], w[7:])]  # events cut mid-way too
    out, _ = await relayed(base_url, split)
    assert out == b"".join(writes[:-1])


async def test_other_framings_are_reframed_event_by_event(base_url):
    writes = [
        b": keep-alive\r\n\r\n",
        event(chunk("", role="assistant"), sep=b"data:", end=b"\r\n\r"),
        b"\n",  # the CRLF of the last event split across writes
        b"event: message\n" + event(chunk("hi")),
        b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk",\ndata: "created":1,'
        b'"model":"m","choices":[{"index":0,"delta":{"content":" there"},"finish_reason":null}]}'
        b"\n\n",
        event(chunk(finish="stop")) + event(USAGE) + b"data: [DONE]\n\n",
    ]
    out, tally = await relayed(base_url, writes, apart=True)
    lines = out.split(b"\n\n")
    assert lines[-1] == b"" and all(line.startswith(b"data: {") for line in lines[:-1])
    events = [json.loads(line[6:]) for line in lines[:-1]]
    assert len(events) == 5
    contents = [e["choices"][0]["delta"].get("content") for e in events if e["choices"]]
    assert (
        contents == ["", "hi", " there", None] and events[-1]["usage"]["completion_tokens"] == 200
    )
    assert tally.usage == TokenUsage(5, 200)


async def test_a_usage_chunk_the_caller_did_not_ask_for_is_left_out_but_counted(base_url):
    out, tally = await relayed(base_url, plain_stream(3), with_usage=False)
    assert b'"usage"' not in out and out.count(b"\n\n") == 5
    assert tally.usage == TokenUsage(5, 200)


async def test_words_that_look_like_the_wire_are_words(base_url):
    tricky = ['"error"', "[DONE]", '"usage":{}', "data: x\\n\\n"]
    writes = [event(chunk("", role="assistant")), *(event(chunk(t)) for t in tricky)]
    out, tally = await relayed(base_url, [*writes, b"data: [DONE]\n\n"])
    assert out == b"".join(writes)
    assert tally.answer_text() == "".join(tricky) and tally.usage is None


async def test_an_error_event_after_the_answer_began_raises_after_what_came_before(base_url):
    failure = {"error": {"message": "broke", "code": "500"}}
    writes = [*plain_stream(2)[:3], event(failure) + event(chunk("never"))]
    SCRIPT[:] = writes
    tally = Tally()
    arguments = call_arguments(base_url)
    async with aiohttp.ClientSession() as http:
        stream = await byte_stream.open_stream(http, tally, with_usage=True, **arguments)
        await stream.open(8)
        blocks = []
        with pytest.raises(UpstreamFailure) as raised:
            async for block in stream:
                blocks.append(block)
        await stream.aclose()
    assert b"".join(blocks) == b"".join(writes[:3])
    said = raised.value.error
    assert (said.status, said.code, said.message) == (500, "500", "broke")


async def test_an_error_event_before_the_answer_raises_while_opening(base_url):
    SCRIPT[:] = [event(chunk("", role="assistant")), event({"error": {"message": "overloaded"}})]
    arguments = call_arguments(base_url)
    async with aiohttp.ClientSession() as http:
        stream = await byte_stream.open_stream(http, Tally(), with_usage=True, **arguments)
        with pytest.raises(UpstreamFailure):
            await stream.open(8)
        await stream.aclose()


def test_a_long_answer_keeps_a_bounded_part_and_counts_the_rest_in_proportion():
    tally = Tally()
    block = event(chunk("word " * 100))
    for _ in range(3 * KEEP_BYTES // len(block)):
        tally.keep(block)
    assert KEEP_BYTES <= tally.kept_bytes < KEEP_BYTES + len(block)
    assert len(tally.relayed) * len(block) == tally.kept_bytes
    relayed = tally.kept_bytes + tally.unkept_bytes
    counted = TokenUsage(7, 1000)
    assert tally.extrapolated(counted) == TokenUsage(7, round(1000 * relayed / tally.kept_bytes))


async def test_the_lean_path_holds_more_streams_open_than_a_pool_cap(base_url):
    """aiohttp caps a session at 100 connections unless told otherwise: the 101st call in flight
    would wait for one of the others to end."""
    HOLD.clear()
    SCRIPT[:] = plain_stream(2)
    http = passthrough.pool(DefaultResolver())
    try:
        opening = [
            byte_stream.open_stream(
                http, Tally(), with_usage=True, **call_arguments(base_url + "/hold")
            )
            for _ in range(120)
        ]
        streams = await asyncio.wait_for(asyncio.gather(*opening), 10)
        assert len(streams) == 120  # all answering at once, none waiting for a connection
        HOLD.set()
        for stream in streams:
            await stream.open(8)
            assert [block async for block in stream]
            await stream.aclose()
    finally:
        HOLD.set()
        await http.close()
