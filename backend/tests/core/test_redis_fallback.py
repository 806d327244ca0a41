"""With Redis unreachable, the shared state degrades to the process's own: limits still limit,
the concurrency cap still holds, caches are bypassed — nothing raises into a request."""

from __future__ import annotations

from redis.asyncio import Redis

from app.core.cache import UNKNOWN, Generations
from app.core.inflight import InFlight
from app.core.rate_limit import REDIS_TIMEOUTS, RateLimiter
from tests.helpers.databases import DEAD_REDIS


async def test_rate_limits_count_in_the_process_when_redis_is_down():
    limiter = RateLimiter(DEAD_REDIS)
    limit = limiter.item("2/minute")
    assert [await limiter.hit(limit, "k") for _ in range(3)] == [True, True, False]
    assert 0 < await limiter.retry_after_s(limit, "k") <= 60


async def test_the_concurrency_cap_holds_in_the_process_when_redis_is_down():
    redis = Redis.from_url(DEAD_REDIS, **REDIS_TIMEOUTS)
    inflight = InFlight(redis, ttl_s=60)
    first = await inflight.acquire("a", 1)
    assert first is not None and await inflight.acquire("a", 1) is None
    assert await inflight.counts(["a"]) == {"a": 1}
    await inflight.release("a", first)
    assert await inflight.acquire("a", 1) is not None
    await redis.aclose()


async def test_caches_are_bypassed_when_redis_is_down():
    redis = Redis.from_url(DEAD_REDIS, **REDIS_TIMEOUTS)
    generations = Generations(redis)
    assert await generations.read("platforms") == (UNKNOWN,)
    await generations.bump("platforms")  # logged, not raised
    await redis.aclose()
