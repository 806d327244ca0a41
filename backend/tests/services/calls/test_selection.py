"""The order accounts are tried in, per strategy, and the concurrency cap (in-process and in
Redis, under concurrent acquisition)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest
from redis.asyncio import Redis

from app.core.inflight import InFlight
from app.models import OAuthAccount
from app.services.calls.selection import order

ACCOUNTS = [OAuthAccount(id=n, user_id=1, platform_id="p", account_name=f"a{n}") for n in (1, 2, 3)]


def first_ids(strategy, remaining=None, busy=None, turns=300, tried=frozenset()):
    return Counter(
        order(strategy, ACCOUNTS, remaining or {}, busy or {}, turn, set(tried))[0].id
        for turn in range(turns)
    )


def test_round_robin_visits_every_account_evenly():
    assert first_ids("round_robin") == {1: 100, 2: 100, 3: 100}


def test_most_remaining_prefers_the_fullest_and_takes_turns_on_ties():
    assert first_ids("most_remaining", {1: 10, 2: 500, 3: 200}) == {2: 300}
    assert first_ids("most_remaining", {1: 500, 2: 500, 3: 20}) == {1: 150, 2: 150}
    assert first_ids("most_remaining", {1: None, 2: 10**9, 3: 0}) == {1: 300}  # no limit: full


def test_least_busy_prefers_the_fewest_calls_in_flight():
    assert first_ids("least_busy", busy={1: 3, 2: 0, 3: 1}) == {2: 300}


def test_fill_first_spends_the_oldest_account_first():
    assert first_ids("fill_first", {1: 1, 2: 500, 3: 500}) == {1: 300}


def test_accounts_already_tried_go_last():
    ranked = order("fill_first", ACCOUNTS, {}, {}, 0, {1, 2})
    assert [a.id for a in ranked] == [3, 1, 2]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def inflight(request):
    if request.param == "memory":
        yield InFlight(None, ttl_s=60)
        return
    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    yield InFlight(redis, ttl_s=60, key_prefix=f"test:{uuid.uuid4().hex}")
    await redis.aclose()


async def test_the_concurrency_cap_admits_exactly_cap_calls_at_once(inflight):
    tickets = await asyncio.gather(*(inflight.acquire("a", 3) for _ in range(40)))
    held = [t for t in tickets if t is not None]
    assert len(held) == 3 and (await inflight.counts(["a", "b"])) == {"a": 3, "b": 0}
    await inflight.release("a", held[0])
    assert await inflight.acquire("a", 3) is not None
    assert await inflight.acquire("a", 3) is None


async def test_a_call_whose_worker_died_frees_its_slot_after_the_ttl():
    inflight = InFlight(None, ttl_s=0.05)
    assert await inflight.acquire("a", 1) is not None  # never released
    assert await inflight.acquire("a", 1) is None
    await asyncio.sleep(0.06)
    assert await inflight.acquire("a", 1) is not None
