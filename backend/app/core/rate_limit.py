"""Rate limits with the `limits` library: a moving window, exact across workers and instances
when REDIS_URL is set (the counting happens in Redis), in-process otherwise."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


def storage_uri(redis_url: str | None) -> str:
    return f"async+{redis_url}" if redis_url else "async+memory://"


class RateLimiter:
    def __init__(self, redis_url: str | None, key_prefix: str = "oauth-proxy") -> None:
        options = {"key_prefix": f"{key_prefix}:limits"} if redis_url else {}
        self._storage = storage_from_string(storage_uri(redis_url), **options)
        self._strategy = MovingWindowRateLimiter(self._storage)  # type: ignore[arg-type]

    @staticmethod
    def item(limit: str) -> RateLimitItem:
        """`"5/minute"`, `"60 per minute"`, `"1000/day"`: the limits library's notation."""
        return parse(limit)

    async def hit(self, limit: RateLimitItem, *key: str) -> bool:
        """Count one event; False when it is over the limit (and then it is not counted)."""
        return await self._strategy.hit(limit, *key)

    async def allows(self, limit: RateLimitItem, *key: str) -> bool:
        """Whether one more event would be within the limit, without counting it."""
        return await self._strategy.test(limit, *key)

    async def retry_after_s(self, limit: RateLimitItem, *key: str) -> int:
        reset_at, _remaining = await self._strategy.get_window_stats(limit, *key)
        return max(1, math.ceil(reset_at - time.time()))

    async def clear(self, limit: RateLimitItem, *key: str) -> None:
        await self._strategy.clear(limit, *key)
