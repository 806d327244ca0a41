"""Rate limits with the `limits` library: a moving window, exact across workers and instances
when REDIS_URL is set (the counting happens in Redis), in-process otherwise.

When Redis cannot be reached the limits degrade to this process's own memory (each worker then
counts alone) rather than refusing every request, and go back to Redis as soon as it answers.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from app.core.logging import warn_now_and_then

logger = logging.getLogger(__name__)
T = TypeVar("T")


# A Redis that stops answering costs each request at most this long before the fallback.
REDIS_TIMEOUTS = {"socket_connect_timeout": 1.0, "socket_timeout": 2.0}


def storage_uri(redis_url: str | None) -> str:
    return f"async+{redis_url}" if redis_url else "async+memory://"


class RateLimiter:
    def __init__(self, redis_url: str | None, key_prefix: str = "oauth-proxy") -> None:
        self._local = MovingWindowRateLimiter(storage_from_string("async+memory://"))  # type: ignore[arg-type]
        self._shared = None
        if redis_url:
            storage = storage_from_string(
                storage_uri(redis_url),
                key_prefix=f"{key_prefix}:limits",
                wrap_exceptions=True,
                implementation="redispy",  # the client the rest of the service uses
                **REDIS_TIMEOUTS,
            )
            self._shared = MovingWindowRateLimiter(storage)  # type: ignore[arg-type]

    @staticmethod
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

    async def _run(self, action: Callable[[MovingWindowRateLimiter], Awaitable[T]]) -> T:
        if self._shared is not None:
            try:
                return await action(self._shared)
            except StorageError:
                warn_now_and_then(logger, "Redis unreachable: rate limits count in this process")
        return await action(self._local)
