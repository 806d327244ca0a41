"""A bounded soak: thousands of chat calls, streamed and not, through the service as production
runs it (gunicorn, one uvicorn worker per core) to a fake OpenAI-format platform over loopback;
its memory must stay flat.

RSS (master and workers together) is sampled once every worker is warm (litellm's lazy parts
loaded, pools filled: a worker's first calls add about 130 MiB) and again at the end. Growth
beyond the tolerance means something keeps a little of every call: a leak that would take a
long-running worker down.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.helpers.processes import ServiceProcess, running_service
from tests.helpers.service_client import api_key, bind, fake_platforms_file, sign_up

pytestmark = pytest.mark.soak

WORKERS = 2  # the machine's cores
WARM_UP_CALLS = 100  # a round; rounds go on until the RSS settles (every worker warm)
WARM_UP_ROUNDS = 6
SETTLED_BYTES = 4 * 1024 * 1024
SOAK_CALLS = 3000
MIN_SOAK_CALLS = 1000  # fewer in the time allowed, and the machine is too busy to tell a leak
SOAK_SECONDS = 40
CONCURRENCY = 8
# Flat means at most 12 MiB more, all processes together: a leak of 6 KiB a call would add that
# over 2000 calls (12 KiB over the least allowed 1000), while a warm worker's allocator noise
# stays within a few MiB.
RSS_TOLERANCE_BYTES = 12 * 1024 * 1024
SERVICE_ENV = {
    # Every message is unique, so the answer cache would only fill its 1024 entries: measure the
    # call path, not a bounded cache.
    "LITELLM_CACHE_ENABLED": "false",
    "CALL_USER_RATE_LIMIT": "",  # thousands of calls a minute, as the platform's limit (dropped)
}


@dataclass
class Tally:
    answered: int = 0
    failed: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def soak_service(
    tmp_path_factory: pytest.TempPathFactory, platform_fakes: Any
) -> Iterator[tuple[ServiceProcess, str]]:
    work = tmp_path_factory.mktemp("soak")
    platforms = fake_platforms_file(platform_fakes, work, unlimited=True)
    with running_service(work, SERVICE_ENV, workers=WORKERS, platforms_file=platforms) as service:
        with httpx.Client(base_url=service.url, timeout=30) as http:
            auth = sign_up(http)
            bind(http, auth, "openai", "sk-soak-0123456789abcdef")
            key = api_key(http, auth)
        yield service, key


async def one_call(client: httpx.AsyncClient, key: str, stream: bool, tally: Tally) -> None:
    body = {
        "model": "openai/gpt-4.1-mini",
        "messages": [{"role": "user", "content": f"Say hello {uuid.uuid4().hex[:8]}"}],
        "stream": stream,
    }
    headers = {"Authorization": f"Bearer {key}"}
    async with client.stream("POST", "/v1/chat/completions", json=body, headers=headers) as r:
        text = (await r.aread()).decode()
    complete = text.rstrip().endswith("data: [DONE]") if stream else '"Hello!"' in text
    if r.status_code == 200 and complete:
        tally.answered += 1
    else:
        tally.failed.append(f"{r.status_code} {text[:200]}")


async def drive(
    url: str, key: str, calls: int, deadline: float, *, keep_alive: bool = True
) -> Tally:
    """`calls` calls, every other one streamed, `CONCURRENCY` at a time, until `deadline`.
    Without keep-alive every call is a new connection, which any worker may accept."""
    tally = Tally()
    numbers = iter(range(calls))
    kept = CONCURRENCY if keep_alive else 0
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=kept)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def worker() -> None:
            for number in numbers:
                if time.monotonic() > deadline:
                    return
                await one_call(client, key, number % 2 == 1, tally)

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return tally


def total_rss(service: ServiceProcess) -> int:
    return sum(service.rss().values())


def warm_up(service: ServiceProcess, key: str) -> int:
    """Rounds of calls on fresh connections until the RSS settles; the RSS then."""
    before = total_rss(service)
    for _ in range(WARM_UP_ROUNDS):
        deadline = time.monotonic() + 60
        tally = asyncio.run(drive(service.url, key, WARM_UP_CALLS, deadline, keep_alive=False))
        assert tally.failed == [] and tally.answered == WARM_UP_CALLS, tally.failed[:5]
        after = total_rss(service)
        if after - before < SETTLED_BYTES:
            return after
        before = after
    raise AssertionError(f"the RSS did not settle in {WARM_UP_ROUNDS} rounds of warm-up calls")


def test_memory_stays_flat_over_thousands_of_calls(soak_service, platform_fakes, capsys):
    service, key = soak_service
    start_rss = warm_up(service, key)
    platform_fakes.openai.requests.clear()  # the fake's record grows the test, not the service
    began = time.monotonic()

    soak = asyncio.run(drive(service.url, key, SOAK_CALLS, began + SOAK_SECONDS))
    seconds, end_rss = time.monotonic() - began, total_rss(service)

    growth = end_rss - start_rss
    with capsys.disabled():
        print(
            f"\nsoak: {soak.answered} calls in {seconds:.1f} s ({soak.answered / seconds:.0f}/s), "
            f"RSS {start_rss / 2**20:.1f} MiB after warm-up -> {end_rss / 2**20:.1f} MiB "
            f"({growth / 2**20:+.1f} MiB, allowed +{RSS_TOLERANCE_BYTES / 2**20:.0f} MiB)"
        )
    assert soak.failed == [], soak.failed[:5]
    assert soak.answered >= MIN_SOAK_CALLS
    assert len(platform_fakes.openai.model_requests) == soak.answered  # each reached the platform
    assert growth <= RSS_TOLERANCE_BYTES
