"""Caches that every worker and instance drops at once.

A cached value remembers its namespace's generation when it was loaded. A change bumps the
generation — in Redis when REDIS_URL is set, so every worker and instance sees it; in-process
otherwise — and a value whose generation is old, or whose time is up, is loaded again. Reading
the generations costs one Redis round trip per request; that is what makes a change (an account
disabled, a config edited) count from the very next request everywhere. When Redis cannot be
reached the caches are bypassed: slower, never stale.

Changes are announced after their transaction commits: `changed(session, name)` queues the bump
and `session_scope` performs it once the commit has succeeded.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, defaultdict
from typing import Generic, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.core.logging import warn_now_and_then

logger = logging.getLogger(__name__)

K = TypeVar("K")
V = TypeVar("V")
UNKNOWN = -1
"""The generation when it cannot be read: matches no cached value."""


class Generations:
    def __init__(self, redis: Redis | None, key_prefix: str = "oauth-proxy") -> None:
        self._redis = redis
        self._prefix = f"{key_prefix}:generation:"
        self._local: defaultdict[str, int] = defaultdict(int)

    async def read(self, *names: str) -> tuple[int, ...]:
        if self._redis is None:
            return tuple(self._local[name] for name in names)
        try:
            values = await self._redis.mget([self._prefix + name for name in names])
        except (RedisError, OSError):
            warn_now_and_then(logger, "Redis unreachable: caches bypassed")
            return tuple(UNKNOWN for _ in names)
        return tuple(int(value or 0) for value in values)

    async def bump(self, *names: str) -> None:
        for name in names:
            self._local[name] += 1
        if self._redis is None or not names:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.incr(self._prefix + name)
                await pipe.execute()
        except (RedisError, OSError):
            # Values cached elsewhere may live out their TTL; say so loudly.
            logger.error("cache invalidation of %s failed (Redis)", ", ".join(names))


class TTLCache(Generic[K, V]):
    """At most `size` values, each valid for `ttl_s` seconds and while its generation holds."""

    def __init__(self, ttl_s: float, size: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self._values: OrderedDict[K, tuple[int, float, V]] = OrderedDict()

    def get(self, key: K, generation: int) -> V | None:
        found = self._values.get(key)
        if found is None:
            return None
        stored_generation, expires, value = found
        if stored_generation != generation or expires < time.monotonic():
            del self._values[key]
            return None
        return value

    def put(self, key: K, generation: int, value: V) -> None:
        if generation == UNKNOWN or self.ttl_s <= 0:
            return
        self._values[key] = (generation, time.monotonic() + self.ttl_s, value)
        self._values.move_to_end(key)
        while len(self._values) > self.size:
            self._values.popitem(last=False)


def changed(session: AsyncSession | Session, *names: str) -> None:
    """Announce that `names` change when this session's transaction commits."""
    session.info.setdefault("changed_caches", set()).update(names)


async def announce(session: AsyncSession) -> None:
    """Bump what the committed transaction changed (called by `session_scope`)."""
    names = session.info.pop("changed_caches", None)
    generations: Generations | None = session.info.get("generations")
    if names and generations is not None:
        await generations.bump(*sorted(names))
