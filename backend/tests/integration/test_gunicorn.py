"""Production's server: `gunicorn -c gunicorn.conf.py app.main:app` with four uvicorn workers.

It serves calls, streamed and not; and on SIGTERM it stops taking connections at once but lets a
stream in flight finish with all its chunks and [DONE] before it exits, within graceful_timeout.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.upstream import Reply
from tests.helpers.processes import ServiceProcess, running_service
from tests.helpers.service_client import api_key, bind, fake_platforms_file, sign_up

pytestmark = pytest.mark.serial

WORKERS = 4
GRACEFUL_TIMEOUT_S = 15
SLOW_TEXT = "one two three four five six"
SLOW_CHUNK_DELAY_S = 0.5  # six chunks: the stream lasts about three seconds


@dataclass
class Caller:
    service: ServiceProcess
    key: str
    """The API key of a user with an OpenAI account on the fake, keyed `account_key`."""
    account_key: str


@pytest.fixture
def gunicorn(tmp_path: Path, platform_fakes: Any) -> Iterator[Caller]:
    env = {"GRACEFUL_TIMEOUT": str(GRACEFUL_TIMEOUT_S), "LITELLM_CACHE_ENABLED": "false"}
    platforms = fake_platforms_file(platform_fakes, tmp_path, unlimited=True, lean_only=True)
    account_key = f"sk-gunicorn-{uuid.uuid4().hex}"
    with running_service(tmp_path, env, workers=WORKERS, platforms_file=platforms) as service:
        with httpx.Client(base_url=service.url, timeout=30) as http:
            auth = sign_up(http)
            bind(http, auth, "openai", account_key)
            key = api_key(http, auth)
        yield Caller(service, key, account_key)


def chat_body(stream: bool) -> dict[str, Any]:
    return {
        "model": "openai/gpt-4.1-mini",
        "messages": [{"role": "user", "content": f"Say hello {uuid.uuid4().hex[:8]}"}],
        "stream": stream,
    }


async def call_many(caller: Caller, count: int, concurrency: int) -> list[str]:
    """`count` calls, every other one streamed; the failures, described."""
    failures: list[str] = []
    numbers = iter(range(count))
    headers = {"Authorization": f"Bearer {caller.key}"}
    async with httpx.AsyncClient(base_url=caller.service.url, timeout=60) as client:

        async def worker() -> None:
            for number in numbers:
                stream = number % 2 == 1
                r = await client.post(
                    "/v1/chat/completions", json=chat_body(stream), headers=headers
                )
                done = r.text.rstrip().endswith("data: [DONE]") if stream else "Hello!" in r.text
                if r.status_code != 200 or not done:
                    failures.append(f"{r.status_code} {r.text[:200]}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return failures


def test_four_workers_serve_calls_streamed_and_not(gunicorn: Caller) -> None:
    workers = gunicorn.service.worker_pids()
    assert len(workers) == WORKERS
    assert asyncio.run(call_many(gunicorn, count=80, concurrency=8)) == []
    assert sorted(gunicorn.service.worker_pids()) == sorted(workers)  # none died or was replaced


@dataclass
class StreamRecord:
    events: list[str] = field(default_factory=list)
    first_chunk: threading.Event = field(default_factory=threading.Event)
    finished_at: float | None = None
    error: BaseException | None = None


def read_stream(caller: Caller, record: StreamRecord) -> None:
    """One streamed call, its `data:` events kept as they arrive."""
    headers = {"Authorization": f"Bearer {caller.key}"}
    try:
        with (
            httpx.Client(base_url=caller.service.url, timeout=30) as http,
            http.stream("POST", "/v1/chat/completions", json=chat_body(True), headers=headers) as r,
        ):
            for line in r.iter_lines():
                if line.startswith("data: "):
                    record.events.append(line[len("data: ") :])
                    record.first_chunk.set()
    except BaseException as exc:  # reported by the test, not lost on the thread
        record.error = exc
    finally:
        record.finished_at = time.monotonic()
        record.first_chunk.set()


def streamed_text(events: list[str]) -> str:
    return "".join(
        choice["delta"].get("content") or ""
        for event in map(json.loads, events)
        for choice in event.get("choices", [])
    )


def refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


def wait_until_refused(port: int, timeout_s: float) -> float | None:
    """When new connections started to be refused (None: they never were within the time)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if refused(port):
            return time.monotonic()
        time.sleep(0.05)
    return None


def test_sigterm_finishes_the_stream_in_flight_refuses_new_connections_and_exits(
    gunicorn: Caller, platform_fakes: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    slow = Reply(text=SLOW_TEXT, chunks=6, chunk_delay_s=SLOW_CHUNK_DELAY_S)
    platform_fakes.openai.script(slow, credential=gunicorn.account_key)
    record = StreamRecord()
    reader = threading.Thread(target=read_stream, args=(gunicorn, record))
    reader.start()
    assert record.first_chunk.wait(timeout=60) and record.error is None

    gunicorn.service.terminate()
    signalled = time.monotonic()
    port = int(gunicorn.service.url.rsplit(":", 1)[1])
    refused_at = wait_until_refused(port, timeout_s=2)
    assert refused_at is not None, "new connections were still accepted after SIGTERM"
    assert record.finished_at is None, "the stream ended before the check: make it slower"

    reader.join(timeout=GRACEFUL_TIMEOUT_S)
    exit_code = gunicorn.service.stop(timeout_s=GRACEFUL_TIMEOUT_S)
    exited = time.monotonic()
    assert record.error is None and record.finished_at is not None
    with capsys.disabled():
        print(
            f"\ngraceful shutdown: new connections refused after {refused_at - signalled:.2f} s, "
            f"the stream finished after {record.finished_at - signalled:.2f} s, "
            f"exited after {exited - signalled:.2f} s (graceful_timeout {GRACEFUL_TIMEOUT_S} s)"
        )
    assert record.events[-1] == "[DONE]"
    assert streamed_text(record.events[:-1]) == SLOW_TEXT
    assert exit_code == 0
    assert exited - signalled < GRACEFUL_TIMEOUT_S
