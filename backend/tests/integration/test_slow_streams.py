"""Slow readers push back: streams whose callers stop reading stop the platform's connection too
(TCP backpressure through the byte relay), the service's memory does not grow with what the
platform would send, and once the callers read on every answer arrives whole and the books count
exactly what the platform reported. The service runs as a real process (uvicorn) on SQLite."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from bench import slow_streams
from tests.fakes.server import serve
from tests.helpers.processes import start_service
from tests.helpers.service_client import api_key, bind, sign_up

pytestmark = pytest.mark.serial

STREAMS = 8
EVENTS = 48 * 1024  # of about 1 KiB each: 48 MiB a stream, far more than sockets hold
USAGE = {"prompt_tokens": 11, "completion_tokens": EVENTS, "total_tokens": 11 + EVENTS}
SENT: dict[int, int] = {}
"""Bytes of each stream that the platform's server has taken (its writes that returned)."""


def _event(body: dict) -> bytes:
    return b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"


def _chunk(content: str, **extra) -> bytes:
    choice = {"index": 0, "delta": {"content": content}, "finish_reason": None}
    body = {"id": "chatcmpl-slow", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    return _event(body | {"choices": [choice]} | extra)


ROLE = _event(
    {
        "id": "chatcmpl-slow",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}],
    }
)
WORD = _chunk("x" * 900)
END = _chunk("", choices=[], usage=USAGE) + b"data: [DONE]\n\n"


async def platform(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["path"].endswith("/models"):
        body = json.dumps({"object": "list", "data": [{"id": "m", "object": "model"}]}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})
        return
    while (await receive()).get("more_body"):
        pass
    number = len(SENT)
    SENT[number] = 0
    headers = [(b"content-type", b"text/event-stream")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    batch = WORD * 64
    for write in [ROLE, *[batch] * (EVENTS // 64), END]:
        await send({"type": "http.response.body", "body": write, "more_body": True})
        SENT[number] += len(write)
    await send({"type": "http.response.body", "body": b""})


def platforms_file(work: Path, base: str) -> Path:
    entry = {
        "platform_id": "slow",
        "platform_name": "Slow",
        "oauth_config": {"login_methods": ["api_key"]},
        "litellm_config": {
            "provider": "openai",
            "api_base": base,
            "default_model": "m",
            "available_models": ["m"],
        },
        "quota_config": {"daily_limit": 10**9},
    }
    path = work / "slow-platform.json"
    path.write_text(json.dumps([entry]))
    return path


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def settled(sizes, deadline_s: float = 30.0) -> dict[int, int]:
    """Poll until the platform's writes stop moving (bounded): where backpressure held them."""
    deadline = time.monotonic() + deadline_s
    last: dict[int, int] = {}
    while time.monotonic() < deadline:
        now = dict(sizes)
        if now == last and len(now) == STREAMS:
            return now
        last = now
        await asyncio.sleep(0.5)
    raise AssertionError(f"the platform kept writing: {last}")


async def quiet_rss(pid: int, deadline_s: float = 60.0) -> int:
    """The service's RSS once it stops moving (bounded): litellm loads on a thread at start-up."""
    deadline = time.monotonic() + deadline_s
    last = -1
    while time.monotonic() < deadline:
        now = rss_bytes(pid)
        if abs(now - last) < 1024 * 1024:
            return now
        last = now
        await asyncio.sleep(1.0)
    raise AssertionError(f"the service's memory kept moving: {last}")


async def slow_crowd(url: str, key: str, pid: int) -> tuple[slow_streams.Crowd, dict, int]:
    """Streams held open by callers that stop reading: what the platform sent of each once it
    could send no more, and what the service's memory grew by meanwhile; then read to the end."""
    SENT.clear()
    before = await quiet_rss(pid)
    crowd, tasks = await slow_streams.crowd(url, key, "slow/m", STREAMS, trickle=(1, 60))
    await slow_streams.until_first_bytes(crowd, 30)
    held = await settled(SENT)
    grown = rss_bytes(pid) - before
    crowd.release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 120)
    return crowd, held, grown


async def test_slow_readers_hold_the_platform_back_and_the_books_stay_exact(tmp_path):
    database = tmp_path / "slow.db"
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{database}", "CALL_USER_RATE_LIMIT": ""}
    with serve(platform) as fake:
        service = start_service(tmp_path, env, platforms_file=platforms_file(tmp_path, fake.url))
        try:
            with httpx.Client(base_url=service.url, timeout=30) as http:
                auth = sign_up(http)
                bind(http, auth, "slow", "sk-slow-0001")
                key = api_key(http, auth)
            url = f"{service.url}/v1/chat/completions"
            # The first round grows the allocator's pools; the second shows what streams hold.
            rounds = [await slow_crowd(url, key, service.pid) for _ in range(2)]
        finally:
            service.stop()

    total = len(ROLE) + EVENTS * len(WORD) + len(END)
    for crowd, held, _ in rounds:
        # Each platform connection stopped where the sockets on its way were full (their buffers
        # grow with use, up to a few MiB each on loopback); a relay that buffered read it all.
        assert all(sent < total / 2 for sent in held.values()), (held, total)
        assert crowd.whole == STREAMS, [s.error or s.status for s in crowd.streams]
        assert all(stream.received > EVENTS * len(WORD) for stream in crowd.streams)
    grown = rounds[1][2]
    assert grown < STREAMS * 1024 * 1024, grown  # not what the platform sent (MiBs a stream)
    with sqlite3.connect(database) as books:
        rows = books.execute(
            "SELECT sum(prompt_tokens), sum(completion_tokens), sum(requests), sum(failures) "
            "FROM account_usage"
        ).fetchone()
    calls = 2 * STREAMS
    assert rows == (11 * calls, EVENTS * calls, calls, 0)
