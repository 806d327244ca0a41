"""Caches that every worker and instance drops at once.

A cached value remembers its namespace's generation when it was loaded. A change bumps the
generation — in Redis when REDIS_URL is set, so every worker and instance sees it; in-process
otherwise — and a value whose generation is old, or whose time is up, is loaded again. Reading
the generations costs one Redis round trip per request; that is what makes a change (an account
disabled, a config edited) count from the very next request everywhere. When Redis cannot be
reached the caches are bypassed: slower, never stale.

Without Redis the generations live in the database as well (`cache_generations`): a change bumps
its namespace's row in its own transaction, and each process reads the rows it has been asked
about at most once a second — so a change made by another worker, or by a script, counts within
a second there.

Changes are announced after their transaction commits: `changed(session, name)` queues the bump
and `session_scope` performs it once the commit has succeeded (the database's row is bumped
just before the commit, in the transaction that made the change).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from typing import Generic, TypeVar, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import Table, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from app.core.logging import warn_now_and_then
from app.core.upsert import upsert

logger = logging.getLogger(__name__)

K = TypeVar("K")
V = TypeVar("V")
UNKNOWN = -1
"""The generation when it cannot be read: matches no cached value."""
DATABASE_READ_EVERY_S = 1.0
"""Without Redis: how often a process reads the generations others bumped in the database."""


class Generations:
    """Reads from Redis are shared: a read asked for while one is on its way joins the next, and
    that one reads what all of them want in one MGET. A read never returns what was read before
    it was asked for, so a change still counts from the very next request."""

    def __init__(
        self,
        redis: Redis | None,
        key_prefix: str = "oauth-proxy",
        *,
        database: AsyncEngine | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self._prefix = f"{key_prefix}:generation:"
        self._local: defaultdict[str, int] = defaultdict(int)
        self._reading = False
        self._waiting: list[tuple[tuple[str, ...], asyncio.Future[tuple[int, ...]]]] = []
        self._next_reads: asyncio.Task[None] | None = None
        self.database = database if redis is None else None
        """Without Redis, where the generations every process shares live."""
        self._clock = clock
        self._stored: dict[str, int] = {}
        self._asked: set[str] = set()
        self._stored_read_at: float | None = None

    async def read(self, *names: str) -> tuple[int, ...]:
        if self._redis is None:
            if self.database is not None:
                await self._read_stored(names)
            return tuple(self._local[name] + self._stored.get(name, 0) for name in names)
        if self._reading:
            future: asyncio.Future[tuple[int, ...]] = asyncio.get_running_loop().create_future()
            self._waiting.append((names, future))
            return await future
        self._reading = True
        try:
            found = await self._fetch(set(names))
        finally:
            self._read_waiting()
        return tuple(found[name] for name in names)

    def _read_waiting(self) -> None:
        """Start the next shared read for those who asked meanwhile, or stop reading."""
        if self._waiting:
            self._next_reads = asyncio.create_task(self._serve_waiting())
        else:
            self._reading = False

    async def _serve_waiting(self) -> None:
        lot, self._waiting = self._waiting, []
        try:
            found = await self._fetch({name for names, _ in lot for name in names})
        except BaseException as exc:  # cancelled at shutdown: nobody may wait forever
            for _, future in lot:
                if not future.done():
                    future.set_exception(exc)
            raise
        finally:
            self._read_waiting()
        for names, future in lot:
            if not future.done():
                future.set_result(tuple(found[name] for name in names))

    async def _fetch(self, names: set[str]) -> dict[str, int]:
        assert self._redis is not None
        keys = sorted(names)
        try:
            values = await self._redis.mget([self._prefix + name for name in keys])
        except (RedisError, OSError):
            warn_now_and_then(logger, "Redis unreachable: caches bypassed")
            return dict.fromkeys(keys, UNKNOWN)
        return {name: int(value or 0) for name, value in zip(keys, values, strict=True)}

    async def _read_stored(self, names: tuple[str, ...]) -> None:
        """The database's generations of every name asked so far, at most once a second (a
        name first asked meanwhile is read at the next turn)."""
        self._asked.update(names)
        now = self._clock()
        if self._stored_read_at is not None and now - self._stored_read_at < DATABASE_READ_EVERY_S:
            return
        self._stored_read_at = now
        assert self.database is not None
        from app.models import CacheGeneration  # the models import this module

        query = select(CacheGeneration.name, CacheGeneration.generation).where(
            CacheGeneration.name.in_(sorted(self._asked))
        )
        try:
            async with self.database.connect() as connection:
                rows = (await connection.execute(query)).all()
        except (SQLAlchemyError, OSError):
            warn_now_and_then(logger, "cache generations unreadable: kept as they were")
            return
        self._stored = {name: int(generation) for name, generation in rows}

    async def bump_stored(self, session: AsyncSession, names: set[str]) -> None:
        """Bump the database's generations of `names` in the session's transaction."""
        from app.models import CacheGeneration  # the models import this module

        table = cast(Table, CacheGeneration.__table__)
        for name in sorted(names):
            await upsert(session, table, {"name": name, "generation": 1}, add=("generation",))

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


def changes_to_announce(session: AsyncSession) -> bool:
    """Whether the session has changes to announce once its transaction commits."""
    return "changed_caches" in session.info


async def record_changes(session: AsyncSession) -> None:
    """Without Redis, bump the changed names' rows in the database before the commit (called by
    `session_scope`): the bump commits or rolls back with the change."""
    names = session.info.get("changed_caches")
    generations: Generations | None = session.info.get("generations")
    if names and generations is not None and generations.database is not None:
        await generations.bump_stored(session, names)


async def announce(session: AsyncSession) -> None:
    """Bump what the committed transaction changed (called by `session_scope`)."""
    names = session.info.pop("changed_caches", None)
    generations: Generations | None = session.info.get("generations")
    if names and generations is not None:
        await generations.bump(*sorted(names))
