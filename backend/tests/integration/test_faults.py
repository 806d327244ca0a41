"""Faults on loopback, each against the service as a real process with its books checked exactly
(tests/call_books.py): the upstream failing in every way it can before an answer starts, and a
gunicorn worker killed with streams in flight. PostgreSQL restarted and Redis stopped mid-load are
in test_faults_backing_services.py.

Whatever fails, a caller is answered or refused with a clear 429/503 (never a 500), the usage told
to callers answered in full is exactly what the service recorded, nothing stays reserved, and every
account ends usable again.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.upstream import Behaviour, Drop, Error, Reply, Slow
from tests.helpers.call_books import (
    FILL,
    HOLD_S,
    Outcome,
    assert_books_exact,
    assert_refusals_clear,
    chat,
    error_lines,
    load,
    new_caller,
    platforms_file,
    read_books,
    serve_on_every_account,
    service_env,
    settled_books,
    wait_until_unblocked,
)
from tests.helpers.processes import ServiceProcess, running_service

pytestmark = pytest.mark.faults

CALL_TIMEOUT_S = 2


def sqlite_env(work: Path, *, quota_blocks: bool = False) -> dict[str, str]:
    url = f"sqlite+aiosqlite:///{work / 'faults.db'}"
    return service_env(url, call_timeout_s=CALL_TIMEOUT_S, quota_blocks=quota_blocks)


# --- the upstream fails: drops, timeouts and a 5xx storm ------------------------------------------


def server_error(status: int) -> Error:
    body = {"error": {"message": f"upstream says {status}", "type": "server_error", "code": None}}
    # An overloaded platform says when to come back; a short rest keeps the test short.
    return Error(status, body, {"retry-after": "1"} if status == 503 else {})


STORM: list[tuple[Behaviour, int]] = [
    (Reply(), 24),
    (Drop(), 6),  # connection closed before a byte
    (Drop(reset=True), 3),  # TCP reset
    (Drop(after_chunks=0), 3),  # status line sent, then the connection dies
    (Slow(CALL_TIMEOUT_S + 1.0), 4),  # nothing for longer than CALL_TIMEOUT
    (server_error(500), 7),
    (server_error(502), 7),
    (server_error(503), 6),
]
STORM_CALLS = 60


def storm() -> tuple[list[Behaviour], int]:
    """The storm's behaviours in a fixed shuffled order, and how many of them are faults."""
    behaviours = [behaviour for behaviour, count in STORM for _ in range(count)]
    random.Random(9).shuffle(behaviours)
    return behaviours, sum(count for behaviour, count in STORM if not isinstance(behaviour, Reply))


async def play_out(url: str, key: str, fakes: Any, behaviours: int) -> list[Outcome]:
    """Calls until the platform has seen `behaviours` attempts (calls refused while every account
    rests make none): the whole storm is played before the test looks. Bounded."""
    outcomes = await load(url, key, calls=STORM_CALLS, concurrency=6)
    deadline = time.monotonic() + 30
    while len(fakes.openai.model_requests) < behaviours:
        assert time.monotonic() < deadline, "the storm was not played out"
        outcomes += await load(url, key, calls=3, concurrency=3, pause_s=0.2)
    return outcomes


def failovers(service: ServiceProcess) -> float:
    text = httpx.get(service.url + "/metrics", timeout=10).text
    found = re.search(r'^oauth_proxy_failovers_total\{platform="openai"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


async def test_drops_timeouts_and_a_5xx_storm_fail_over_and_keep_the_books(
    tmp_path: Path, platform_fakes: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    env = sqlite_env(tmp_path, quota_blocks=True)  # calls reserve from blocks of quota
    platforms = platforms_file(platform_fakes, tmp_path)
    with running_service(tmp_path, env, platforms_file=platforms) as service:
        caller = new_caller(service.url, accounts=3)
        behaviours, faults = storm()
        platform_fakes.openai.script(*behaviours)  # one per attempt, whichever account it is on
        outcomes = await play_out(service.url, caller.key, platform_fakes, len(behaviours))
        after_storm = await read_books(env["DATABASE_URL"])
        failed_over = failovers(service)
        await wait_until_unblocked(env["DATABASE_URL"], timeout_s=15)
        outcomes += await serve_on_every_account(service.url, caller, platform_fakes, max_calls=9)
        books = await settled_books(env["DATABASE_URL"], timeout_s=10)
        errors = error_lines(service.log())

    assert not errors, "\n".join(errors)
    assert_refusals_clear(outcomes)
    answered = [o for o in outcomes if o.complete]
    assert all(o.complete for o in outcomes if o.status == 200)  # no answer broke off
    assert failed_over > 0
    # Every fault was one failed attempt, charged nothing; every other attempt one answer.
    assert after_storm.failed_attempts == faults
    attempts = len(platform_fakes.openai.model_requests)
    assert attempts == books.answered + books.failed_attempts
    told = assert_books_exact(outcomes, books)
    refused = {status: sum(o.status == status for o in outcomes) for status in (429, 503)}
    with capsys.disabled():
        print(
            f"\n[upstream faults] {len(outcomes)} calls (a storm of {len(behaviours)} upstream "
            f"answers, {faults} of them faults): {len(answered)} answered, refused {refused}; "
            f"{attempts} attempts, {failed_over:.0f} failovers; usage told {told} = recorded "
            f"{books.recorded} = used {books.used}; reserved {books.reserved}, holds "
            f"{len(books.holds)}; {time.monotonic() - started:.1f} s"
        )


# --- a worker killed mid-request ----------------------------------------------------------------

SLOW_STREAM = Reply("one two three four five six", chunks=6, chunk_delay_s=0.5)  # ~3 s


def calls_in_flight(service: ServiceProcess) -> dict[int, int]:
    """Each worker's established connections on the service's port: the calls it is serving."""
    port = int(service.url.rsplit(":", 1)[1])
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                established.add(fields[9])
    return {pid: len(socket_inodes(pid) & established) for pid in service.worker_pids()}


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().name
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target.removeprefix("socket:[").rstrip("]"))
    return inodes


async def replacement(service: ServiceProcess, workers: set[int], timeout_s: float = 30) -> int:
    """The worker gunicorn's master started after one of `workers` died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = set(service.worker_pids())
        if len(now) == len(workers) and now - workers:
            return (now - workers).pop()
        await asyncio.sleep(0.1)
    raise AssertionError(f"no worker replaced the dead one within {timeout_s} s")


async def slow_streams(service: ServiceProcess, key: str, count: int) -> tuple[list[Outcome], int]:
    """`count` slow streams, each filling an account (FILL) and started once the one before has
    sent its first chunk; then the worker serving the most of them is killed. Their outcomes,
    and the dead pid."""
    async with httpx.AsyncClient(base_url=service.url, timeout=30) as client:
        streams = []
        for _ in range(count):
            first = asyncio.Event()
            call = chat(client, key, stream=True, max_tokens=FILL, on_first_chunk=first.set)
            streams.append(asyncio.create_task(call))
            await asyncio.wait_for(first.wait(), 20)
        in_flight = calls_in_flight(service)
        victim = max(in_flight, key=lambda pid: in_flight[pid])
        os.kill(victim, signal.SIGKILL)
        outcomes = list(await asyncio.gather(*streams))
    assert sum(not o.complete for o in outcomes) == in_flight[victim], (in_flight, outcomes)
    return outcomes, victim


async def test_a_worker_killed_mid_stream_loses_its_calls_and_its_holds_come_back(
    tmp_path: Path, platform_fakes: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    env = sqlite_env(tmp_path)
    platforms = platforms_file(platform_fakes, tmp_path)
    with running_service(tmp_path, env, workers=2, platforms_file=platforms) as service:
        caller = new_caller(service.url, accounts=4)
        warm = await load(service.url, caller.key, calls=8, concurrency=4)
        platform_fakes.openai.script(*[SLOW_STREAM] * 4)
        workers = set(service.worker_pids())
        streamed, victim = await slow_streams(service, caller.key, 4)
        killed = time.monotonic()
        successor = await replacement(service, workers)
        orphaned = await read_books(env["DATABASE_URL"])
        await asyncio.sleep(max(0.0, HOLD_S + 0.5 - (time.monotonic() - killed)))
        # The next call on each account finds it full of dead holds and gives them back.
        after = await serve_on_every_account(service.url, caller, platform_fakes, max_calls=16)
        books = await read_books(env["DATABASE_URL"])
        # gunicorn's master says which worker was killed; nothing else is an error.
        errors = error_lines(service.log(), expected=[rf"Worker \(pid:{victim}\) was sent SIGKILL"])

    assert not errors, "\n".join(errors)
    broken = [o for o in streamed if not o.complete]
    assert broken, "the killed worker served none of the streams"
    assert all(o.status == 200 and o.error and o.tokens == 0 for o in broken)  # cut off mid-answer
    assert victim in workers and successor not in workers
    # Each call of the dead worker left its hold, and nothing else: no usage, no answer.
    assert sum(orphaned.holds.values()) == len(broken)
    assert orphaned.reserved >= len(broken) * FILL
    told = assert_books_exact(warm + streamed + after, books)
    with capsys.disabled():
        print(
            f"\n[worker killed] {len(streamed)} slow streams, {len(broken)} on the killed worker "
            f"(cut off client-side), {len(streamed) - len(broken)} finished; worker {victim} "
            f"replaced by {successor}; holds left {sum(orphaned.holds.values())} "
            f"({orphaned.reserved} tokens), given back by the next calls: holds "
            f"{len(books.holds)}, reserved {books.reserved}; usage told {told} = recorded "
            f"{books.recorded} = used {books.used}; {time.monotonic() - started:.1f} s"
        )
