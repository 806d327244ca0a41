"""Calls in flight per key (an account), with an optional cap: counted in Redis when REDIS_URL is
set, so every worker and instance shares the counts; in-process otherwise.

Each call is a member of a sorted set scored by its start time, so a call whose worker died is
forgotten once it is older than `ttl_s`, rather than holding its slot for ever. When Redis cannot
be reached the counts degrade to this process's own (tickets say where they were taken), and go
back to Redis as soon as it answers.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections import defaultdict

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.core.logging import warn_now_and_then

logger = logging.getLogger(__name__)
_LOCAL = "local:"

# KEYS[1] the set; ARGV: now, ttl, cap (0: none), member. 1 when admitted, 0 when full.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
local cap = tonumber(ARGV[3])
if cap > 0 and redis.call('ZCARD', KEYS[1]) >= cap then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(ARGV[2]))
return 1
"""


class InFlight:
    def __init__(self, redis: Redis | None, ttl_s: float, key_prefix: str = "oauth-proxy") -> None:
        self._redis = redis
        self._prefix = f"{key_prefix}:inflight:"
        self._ttl_s = ttl_s
        self._local: defaultdict[str, dict[str, float]] = defaultdict(dict)
        self._acquire = redis.register_script(_ACQUIRE) if redis is not None else None

    async def acquire(self, key: str, cap: int | None) -> str | None:
        """A ticket for one more call on `key`, or None when `cap` calls are already running."""
        ticket = uuid.uuid4().hex
        now = time.time()
        if self._acquire is not None:
            try:
                admitted = await self._acquire(
                    keys=[self._prefix + key], args=[now, self._ttl_s, cap or 0, ticket]
                )
                return ticket if admitted else None
            except (RedisError, OSError):
                warn_now_and_then(
                    logger, "Redis unreachable: calls in flight count in this process"
                )
        ticket = _LOCAL + ticket
        calls = self._local[key]
        for stale in [t for t, started in calls.items() if started < now - self._ttl_s]:
            del calls[stale]
        if cap and len(calls) >= cap:
            return None
        calls[ticket] = now
        return ticket

    async def release(self, key: str, ticket: str) -> None:
        if ticket.startswith(_LOCAL) or self._redis is None:
            self._local[key].pop(ticket, None)
            return
        with contextlib.suppress(RedisError, OSError):  # else it ages out after ttl_s
            await self._redis.zrem(self._prefix + key, ticket)

    async def counts(self, keys: list[str]) -> dict[str, int]:
        since = time.time() - self._ttl_s
        local = {k: sum(1 for s in self._local[k].values() if s >= since) for k in keys}
        if self._redis is None:
            return local
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.zcount(self._prefix + key, since, "+inf")
                found = await pipe.execute()
        except (RedisError, OSError):
            return local
        return {k: local[k] + int(n) for k, n in zip(keys, found, strict=True)}
