"""Cache generations in Redis: reads asked for together share one MGET, and a read never answers
with what was read before it was asked for (a change counts from the very next request)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.asyncio import Redis

from app.core.cache import Generations
from app.core.rate_limit import REDIS_TIMEOUTS
from tests.helpers.databases import REDIS_URL

pytestmark = pytest.mark.redis


class CountingRedis(Redis):
    """Counts MGETs, each held a moment so that reads pile up behind it."""

    mgets = 0

    async def mget(self, keys, *args):  # type: ignore[no-untyped-def,override]
        self.mgets += 1
        await asyncio.sleep(0.01)
        return await super().mget(keys, *args)


async def test_reads_asked_for_together_share_one_mget_and_see_every_bump():
    redis = CountingRedis.from_url(REDIS_URL, **REDIS_TIMEOUTS)
    generations = Generations(redis, key_prefix=f"test:{uuid.uuid4().hex}")
    try:
        await generations.bump("a")
        reads = [generations.read("a", f"accounts:{n}") for n in range(50)]
        found = await asyncio.gather(*reads)
        assert found == [(1, 0)] * 50
        assert redis.mgets == 2  # the first read, then one for the 49 asked meanwhile

        # A bump made while a read is on its way is seen by every read asked for after it.
        first = asyncio.create_task(generations.read("a"))
        await asyncio.sleep(0)  # the first read's MGET is now under way
        await generations.bump("a")
        assert await generations.read("a") == (2,)
        assert await first in ((1,), (2,))
    finally:
        await redis.aclose()
