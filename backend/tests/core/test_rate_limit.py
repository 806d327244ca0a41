"""A rate limit's size does not change what a call limit's hit costs: two counters per key, in
memory and in Redis, whether the limit is 5 or a million a minute (a moving window keeps one entry
per hit). The exact limiter that guards sign-ins holds at a period's boundary, where the counter
would let a burst through."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
import uuid

import pytest
from redis.asyncio import Redis

from app.core.rate_limit import RateLimiter
from tests.helpers.databases import REDIS_URL

HITS = 2_000


async def test_a_limit_refuses_past_its_size_and_says_when_to_come_back():
    limiter = RateLimiter(None)
    limit = limiter.item("3/minute")
    key = uuid.uuid4().hex
    assert [await limiter.hit(limit, "k", key) for _ in range(4)] == [True, True, True, False]
    assert not await limiter.allows(limit, "k", key)
    assert 0 < await limiter.retry_after_s(limit, "k", key) <= 60
    await limiter.clear(limit, "k", key)
    assert await limiter.allows(limit, "k", key)


@pytest.mark.parametrize("redis_url", [None, pytest.param(REDIS_URL, marks=pytest.mark.redis)])
async def test_the_exact_limiter_refuses_a_burst_across_a_periods_boundary(redis_url):
    limiter = RateLimiter(redis_url, key_prefix=f"rl-{uuid.uuid4().hex[:8]}", exact=True)
    limit = limiter.item("3/second")
    key = uuid.uuid4().hex
    await asyncio.sleep((1.7 - time.time() % 1) % 1)  # late in a clock second (memory's periods)
    bunched = [await limiter.hit(limit, "k", key) for _ in range(3)]
    await asyncio.sleep(1.05 - time.time() % 1)  # just past the boundary
    # A counter would weigh the last period's 3 hits by the ~95% of it left and allow a 4th.
    assert [*bunched, await limiter.hit(limit, "k", key)] == [True, True, True, False]


async def test_hits_under_a_large_limit_keep_no_memory_per_hit():
    limiter = RateLimiter(None)
    limit = limiter.item("1000000/minute")
    key = uuid.uuid4().hex
    await limiter.hit(limit, "account", key)  # the key's counters exist from here on
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        assert all([await limiter.hit(limit, "account", key) for _ in range(HITS)])
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    # What the limits library still holds (other threads of the test run allocate meanwhile).
    library = [tracemalloc.Filter(True, "*/limits/*")]
    kept = sum(
        stat.size_diff
        for stat in after.filter_traces(library).compare_to(
            before.filter_traces(library), "filename"
        )
    )
    assert kept < 2 * HITS  # a moving window keeps an entry (~60 bytes) per hit


@pytest.mark.redis
async def test_a_large_limit_is_two_counters_in_redis():
    prefix = f"rl-{uuid.uuid4().hex[:8]}"
    limiter = RateLimiter(REDIS_URL, key_prefix=prefix)
    limit = limiter.item("1000000/minute")
    assert all([await limiter.hit(limit, "account", "7") for _ in range(HITS)])
    redis = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in redis.scan_iter(f"{prefix}:*")]
        assert 1 <= len(keys) <= 2
        assert {await redis.type(key) for key in keys} == {b"string"}  # counters, not lists
        assert sum([int(await redis.get(key) or 0) for key in keys]) == HITS
    finally:
        await redis.delete(*keys)
        await redis.aclose()
