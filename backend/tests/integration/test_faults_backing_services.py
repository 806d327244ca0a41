"""Faults of the servers the service stands on, mid-load, on a PostgreSQL cluster and a Redis of
the test's own (tests/private_servers.py; the machine's shared servers are never touched):

    PostgreSQL restarted   calls meanwhile are refused with a 503 that says so (never a 500); the
                           service serves again by itself; holds the outage orphaned come back
    Redis stopped          calls go on, counted in each process; Redis is used again once back

The books are checked exactly, as in test_faults.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import Redis

from tests.fakes.upstream import Reply
from tests.helpers.call_books import (
    HOLD_S,
    Outcome,
    assert_books_exact,
    assert_refusals_clear,
    error_lines,
    load,
    new_caller,
    platforms_file,
    read_books,
    serve_on_every_account,
    service_env,
    sweep_expired_holds,
    wait_until_unblocked,
)
from tests.helpers.private_servers import PrivateRedis, private_postgres, private_redis
from tests.helpers.processes import running_service

pytestmark = pytest.mark.faults

OUTAGE_S = 2.0


def during(outcomes: list[Outcome], start: float, end: float) -> list[Outcome]:
    return [o for o in outcomes if start <= o.started <= end]


# --- PostgreSQL restarted ------------------------------------------------------------------------


@pytest.mark.postgres
async def test_postgres_restarted_mid_load_is_a_503_then_served_again_with_exact_books(
    tmp_path: Path, platform_fakes: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    with private_postgres() as postgres:
        env = service_env(postgres.url, call_timeout_s=5)
        platforms = platforms_file(platform_fakes, tmp_path)
        with running_service(tmp_path, env, platforms_file=platforms) as service:
            caller = new_caller(service.url, accounts=3)
            warm = await load(service.url, caller.key, calls=6, concurrency=3)
            # Streams that last a moment, so that some are in flight when the database goes.
            platform_fakes.openai.script(*[Reply("a b c d", chunks=4, chunk_delay_s=0.1)] * 400)
            running = asyncio.create_task(
                load(service.url, caller.key, calls=400, concurrency=6, deadline_s=6, pause_s=0.02)
            )
            await asyncio.sleep(1.5)
            down = time.monotonic()
            await asyncio.to_thread(postgres.stop)
            # New callers meet the outage even when every load slot is a call already in flight,
            # waiting to write its books until the database is back.
            probes_down = await load(service.url, caller.key, calls=3, concurrency=3)
            await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down)))
            await asyncio.to_thread(postgres.start)
            up = time.monotonic()
            outcomes = await running
            platform_fakes.openai.reset()
            again = await load(service.url, caller.key, calls=12, concurrency=3)
            async with httpx.AsyncClient(base_url=service.url, timeout=10) as client:
                ready = (await client.get("/readyz")).status_code
            orphaned = (await read_books(postgres.url)).holds
            await asyncio.sleep(HOLD_S)  # the orphaned holds expire
            swept = await sweep_expired_holds(service.url, caller, platform_fakes)
            await wait_until_unblocked(postgres.url, timeout_s=15)
            probes = await serve_on_every_account(service.url, caller, platform_fakes, max_calls=9)
            books = await read_books(postgres.url)
            log = service.log()

    errors = error_lines(log)
    assert not errors, "\n".join(errors)
    assert_refusals_clear(outcomes + probes_down)
    outage = during(outcomes, down, up) + probes_down
    refused = [o for o in outage if o.status == 503]
    assert refused, "no call met the outage"
    for outcome in refused:
        assert "database is unavailable" in json.loads(outcome.error)["error"]["message"]
    assert "unhandled error" not in log
    # Served again without a restart of the service.
    assert all(o.complete for o in again) and ready == 200
    assert all(o.complete for o in swept + probes)
    told = assert_books_exact(warm + outcomes + probes_down + again + swept + probes, books)
    answered = sum(o.complete for o in outcomes)
    with capsys.disabled():
        print(
            f"\n[PostgreSQL restarted] {len(outcomes)} calls under load, {len(outage)} during "
            f"the {up - down:.1f} s outage: {answered} answered, {len(refused)} refused with 503, "
            f"{sum(o.status == 200 and not o.complete for o in outcomes)} broken off; then "
            f"{len(again + swept + probes)} answered; holds orphaned {sum(orphaned.values())}, "
            f"left {len(books.holds)}; usage told {told} = recorded {books.recorded} = used "
            f"{books.used}, reserved {books.reserved}; {time.monotonic() - started:.1f} s"
        )


# --- Redis stopped -------------------------------------------------------------------------------


def redis_keys(redis: PrivateRedis, prefix: str) -> list[str]:
    with Redis(port=redis.port, socket_timeout=5) as client:
        return [key.decode() for key in client.scan_iter(match=f"{prefix}:*")]


async def readiness(url: str) -> tuple[int, str]:
    """/readyz's status and what it says of Redis."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        response = await client.get("/readyz")
    return response.status_code, response.json()["redis"]


async def until_redis_used(url: str, key: str, redis: PrivateRedis, prefix: str) -> list[Outcome]:
    """Calls until the service writes to the new Redis (bounded); the outcomes, for the books."""
    outcomes: list[Outcome] = []
    deadline = time.monotonic() + 15
    while not redis_keys(redis, prefix):
        assert time.monotonic() < deadline, "the service did not come back to Redis"
        outcomes += await load(url, key, calls=4, concurrency=2)
    return outcomes


async def test_redis_stopped_mid_load_degrades_to_each_process_and_is_used_again(
    tmp_path: Path, platform_fakes: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    with private_redis() as redis:
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'faults.db'}"
        env = service_env(database_url, call_timeout_s=5) | {"REDIS_URL": redis.url}
        prefix = env["REDIS_KEY_PREFIX"]
        platforms = platforms_file(platform_fakes, tmp_path)
        with running_service(tmp_path, env, workers=2, platforms_file=platforms) as service:
            caller = new_caller(service.url, accounts=3)
            before = await load(service.url, caller.key, calls=20, concurrency=4)
            shared_before = redis_keys(redis, prefix)
            running = asyncio.create_task(
                load(service.url, caller.key, calls=60, concurrency=4, pause_s=0.02)
            )
            await asyncio.sleep(0.3)
            redis.kill()
            down = time.monotonic()
            await running
            outage = await load(service.url, caller.key, calls=30, concurrency=4)
            ready_without = await readiness(service.url)
            redis.start()
            back = await until_redis_used(service.url, caller.key, redis, prefix)
            after = await load(service.url, caller.key, calls=20, concurrency=4)
            ready_with = await readiness(service.url)
            books = await read_books(env["DATABASE_URL"])
            log = service.log()
        outcomes = before + running.result() + outage + back + after

    errors = error_lines(log)
    assert not errors, "\n".join(errors)
    assert shared_before, "the service kept nothing in Redis before it stopped"
    assert all(o.complete for o in outcomes), [o.error for o in outcomes if not o.complete]
    assert "Redis unreachable" in log
    assert ready_without == (200, "unreachable") and ready_with == (200, "ok")  # degraded, kept
    told = assert_books_exact(outcomes, books)
    met = during(running.result() + outage, down, float("inf"))
    with capsys.disabled():
        print(
            f"\n[Redis stopped] {len(outcomes)} calls, {len(met)} of them with Redis down: all "
            f"answered; Redis used again after {len(back)} calls; usage told {told} = recorded "
            f"{books.recorded} = used {books.used}, reserved {books.reserved}, holds "
            f"{len(books.holds)}; {time.monotonic() - started:.1f} s"
        )
