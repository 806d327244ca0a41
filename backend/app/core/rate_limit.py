"""Rate limits with the `limits` library, shared by workers and instances when REDIS_URL is set
(the counting happens in Redis, one script call per hit), in-process otherwise.

Calls are counted with a sliding-window counter, cheap at any rate; sign-ins and registrations
with an exact moving window (`exact=True`), as their limits are small and an attacker would
bunch attempts at a period's boundary to get the counter's worst case below.

A limit of N per period keeps two counters per key, this period's and the last one's, so a hit
costs the same at 5 a minute as at a million (a moving window keeps one entry per hit and cost
grows with N). A hit is allowed while

    last period's count x (the share of the last period still inside the sliding period)
    + this period's count  <  N

which is exact when the last period's calls were spread evenly over it. Its error is on the side
of a burst: calls bunched at the end of the last period are counted as if spread, so a sliding
period can hold up to 2N in the worst case, and never more than N in one counter's period. Memory
counters start their periods on the clock's multiples of the period, Redis counters at the first
hit.

When Redis cannot be reached the limits degrade to this process's own memory (each worker then
counts alone) rather than refusing every request, and go back to Redis as soon as it answers.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypedDict, TypeVar

from limits import RateLimitItem, parse
from limits.aio.strategies import (
    MovingWindowRateLimiter,
    SlidingWindowCounterRateLimiter,
)
from limits.aio.strategies import (
    RateLimiter as Strategy,
)
from limits.errors import StorageError
from limits.storage import storage_from_string

from app.core.logging import warn_now_and_then

logger = logging.getLogger(__name__)
T = TypeVar("T")


class RedisTimeouts(TypedDict):
    socket_connect_timeout: float
    socket_timeout: float


# A Redis that stops answering costs each request at most this long before the fallback.
REDIS_TIMEOUTS = RedisTimeouts(socket_connect_timeout=1.0, socket_timeout=2.0)


def storage_uri(redis_url: str | None) -> str:
    return f"async+{redis_url}" if redis_url else "async+memory://"


class RateLimiter:
    def __init__(
        self, redis_url: str | None, key_prefix: str = "oauth-proxy", *, exact: bool = False
    ) -> None:
        strategy = MovingWindowRateLimiter if exact else SlidingWindowCounterRateLimiter
        self._local: Strategy = strategy(storage_from_string("async+memory://"))
        self._shared: Strategy | None = None
        if redis_url:
            storage = storage_from_string(
                storage_uri(redis_url),
                key_prefix=f"{key_prefix}:limits",
                wrap_exceptions=True,
                implementation="redispy",  # the client the rest of the service uses
                **REDIS_TIMEOUTS,
            )
            self._shared = strategy(storage)

    @staticmethod
    @functools.lru_cache(maxsize=256)  # parsed once: calls name their limit on every call
    def item(limit: str) -> RateLimitItem:
        """`"5/minute"`, `"60 per minute"`, `"1000/day"`: the limits library's notation."""
        return parse(limit)

    async def hit(self, limit: RateLimitItem, *key: str) -> bool:
        """Count one event; False when it is over the limit (and then it is not counted)."""
        return await self._run(lambda strategy: strategy.hit(limit, *key))

    async def allows(self, limit: RateLimitItem, *key: str) -> bool:
        """Whether one more event would be within the limit, without counting it."""
        return await self._run(lambda strategy: strategy.test(limit, *key))

    async def retry_after_s(self, limit: RateLimitItem, *key: str) -> int:
        reset_at, _remaining = await self._run(
            lambda strategy: strategy.get_window_stats(limit, *key)
        )
        return max(1, math.ceil(reset_at - time.time()))

    async def clear(self, limit: RateLimitItem, *key: str) -> None:
        await self._run(lambda strategy: strategy.clear(limit, *key))

    async def _run(self, action: Callable[[Strategy], Awaitable[T]]) -> T:
        if self._shared is not None:
            try:
                return await action(self._shared)
            except StorageError:
                warn_now_and_then(logger, "Redis unreachable: rate limits count in this process")
        return await action(self._local)
