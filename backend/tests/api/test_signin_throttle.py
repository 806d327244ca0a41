"""Sign-in throttling, tested from several addresses: failures from one address never lock the
user out of another; failures spread over many addresses slow the name down, except for an
address that has signed in as the user before; X-Forwarded-For counts only from a trusted proxy."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from app.main import create_app
from tests.conftest import make_settings

GOOD = "a long password"


@asynccontextmanager
async def service(
    url: str, peer: str = "127.0.0.1", **overrides
) -> AsyncIterator[httpx.AsyncClient]:
    served = create_app(make_settings(url, background_jobs=False, **overrides))
    async with served.router.lifespan_context(served):
        transport = httpx.ASGITransport(app=served, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client


async def login(client: httpx.AsyncClient, name: str, password: str, address: str) -> int:
    answer = await client.post(
        "/api/v1/auth/login", json={"username": name, "password": password},
        headers={"X-Forwarded-For": address},
    )  # fmt: skip
    return answer.status_code


async def test_failures_from_one_address_do_not_lock_the_user_out_of_another(sqlite_url):
    name = f"alice{uuid.uuid4().hex[:8]}"
    async with service(sqlite_url, signin_failure_limit="5/minute") as client:
        await client.post("/api/v1/auth/register", json={"username": name, "password": GOOD})
        attacker = [await login(client, name, "wrong password", "198.51.100.66") for _ in range(6)]
        assert attacker == [401] * 5 + [429]
        assert await login(client, name, GOOD, "198.51.100.66") == 429  # that address waits
        assert await login(client, name, GOOD, "203.0.113.10") == 200  # alice does not


async def test_failures_spread_over_addresses_slow_the_name_but_not_a_known_address(sqlite_url):
    name = f"bob{uuid.uuid4().hex[:8]}"
    async with service(sqlite_url, signin_user_limit="8/minute;20/hour") as client:
        await client.post("/api/v1/auth/register", json={"username": name, "password": GOOD})
        assert await login(client, name, GOOD, "203.0.113.20") == 200  # bob's own address
        spread = [await login(client, name, "wrong", f"198.51.100.{n}") for n in range(1, 10)]
        assert spread == [401] * 8 + [429]
        assert await login(client, name, GOOD, "198.51.100.200") == 429  # a new address waits
        answer = await client.post(
            "/api/v1/auth/login", json={"username": name, "password": GOOD},
            headers={"X-Forwarded-For": "198.51.100.201"},
        )  # fmt: skip
        assert 0 < int(answer.headers["retry-after"]) <= 60
        assert await login(client, name, GOOD, "203.0.113.20") == 200  # bob's is not held back


async def test_forwarded_addresses_count_only_from_a_trusted_proxy(sqlite_url):
    name = f"carol{uuid.uuid4().hex[:8]}"
    async with service(sqlite_url, peer="192.0.2.9", signin_failure_limit="2/minute") as client:
        await client.post("/api/v1/auth/register", json={"username": name, "password": GOOD})
        # An untrusted peer cannot pose as fresh addresses: all its attempts are its own.
        tries = [await login(client, name, "wrong", f"198.51.100.{n}") for n in range(3)]
        assert tries == [401, 401, 429]
    async with service(sqlite_url, peer="192.0.2.9", forwarded_allow_ips="192.0.2.9",
                       signin_failure_limit="2/minute") as client:  # fmt: skip
        # Behind the configured proxy, each forwarded address is its own.
        tries = [await login(client, name, "wrong", f"198.51.100.{n}") for n in range(10, 13)]
        assert tries == [401, 401, 401]
