"""The quota holds under load: 200 concurrent calls over 3 accounts with small daily limits,
through gunicorn's uvicorn workers, then two instances sharing PostgreSQL and Redis, then on
MariaDB. The books must match the platform's own usage reports exactly, no account may pass its
limit by more than one call's estimate, exhausted accounts are skipped, and the calls beyond the
total capacity are told when to come back.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from app.models import AccountQuotaDay, AccountUsage, QuotaHold
from app.services.calls.usage import estimate
from tests.conftest import TEST_KEY
from tests.helpers.call_books import error_lines
from tests.helpers.databases import REDIS_URL, empty_database
from tests.helpers.processes import start_service
from tests.helpers.service_client import api_key, bind, fake_platforms_file, sign_up

pytestmark = pytest.mark.serial

CALLS = 200
ACCOUNTS = 3
DAILY_LIMIT = 1500  # tokens per account: 4,500 in all, less than 200 calls ask for
MAX_TOKENS = 20

SETUPS = [
    pytest.param("sqlite", 1, 4, False, id="sqlite-gunicorn-4-workers"),
    pytest.param(
        "postgres", 2, 2, True, id="postgres-redis-2-instances",
        marks=[pytest.mark.postgres, pytest.mark.redis],
    ),
    pytest.param(
        "mysql", 1, 4, True, id="mariadb-redis-gunicorn-4-workers",
        marks=[pytest.mark.mysql, pytest.mark.redis],
    ),
]  # fmt: skip


@dataclass
class Outcome:
    status: int
    tokens: int
    retry_after: str | None
    body: str


def limited_platforms(platform_fakes: Any, work: Path) -> Path:
    """The shipped platforms on the fakes, OpenAI's accounts limited to DAILY_LIMIT a day."""
    path = fake_platforms_file(platform_fakes, work, lean_only=True)
    entries = json.loads(path.read_text())
    for entry in entries:
        if entry["platform_id"] == "openai":
            entry["quota_config"] = {"daily_limit": DAILY_LIMIT}
    path.write_text(json.dumps(entries))
    return path


def prompt() -> list[dict[str, str]]:
    """10 to 40 words: the fake reports one prompt token a word, so usage varies per call."""
    words = " ".join(uuid.uuid4().hex[:6] for _ in range(random.randint(10, 40)))
    return [{"role": "user", "content": words}]


async def one_call(client: httpx.AsyncClient, url: str, key: str) -> tuple[Outcome, int]:
    messages = prompt()
    body = {"model": "openai/gpt-4.1-mini", "messages": messages, "max_tokens": MAX_TOKENS}
    response = await client.post(
        f"{url}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    tokens = response.json()["usage"]["total_tokens"] if response.status_code == 200 else 0
    outcome = Outcome(
        response.status_code, tokens, response.headers.get("retry-after"), response.text[:300]
    )
    return outcome, estimate(messages, {"max_tokens": MAX_TOKENS})


async def ledger(url: str) -> tuple[dict[int, int], int, int, int]:
    """Tokens used per account, tokens still reserved, holds left, and account_usage's total."""
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        used = dict(
            (
                await connection.execute(
                    select(AccountQuotaDay.account_id, AccountQuotaDay.used_tokens)
                )
            ).all()
        )
        reserved = await connection.scalar(select(func.sum(AccountQuotaDay.reserved_tokens)))
        holds = await connection.scalar(select(func.count()).select_from(QuotaHold))
        recorded = await connection.scalar(select(func.sum(AccountUsage.total_tokens)))
    await engine.dispose()
    return used, int(reserved or 0), int(holds or 0), int(recorded or 0)


@pytest.mark.parametrize(("kind", "instances", "workers", "redis"), SETUPS)
async def test_concurrent_calls_never_overrun_the_quota(
    kind, instances, workers, redis, tmp_path, platform_fakes, capsys
):
    env = {
        "LITELLM_CACHE_ENABLED": "false",
        "CALL_USER_RATE_LIMIT": "",
        # Instances behind one load balancer share their secrets.
        "CREDENTIAL_KEYS": f"k1:{TEST_KEY}",
        "JWT_SECRET": secrets.token_urlsafe(32),
        "REDIS_KEY_PREFIX": f"test:{uuid.uuid4().hex}",
    }
    if redis:
        env["REDIS_URL"] = REDIS_URL
    platforms = limited_platforms(platform_fakes, tmp_path)
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(empty_database(kind, tmp_path))
        env["DATABASE_URL"] = url
        services = []
        for number in range(instances):
            work = tmp_path / f"instance-{number}"
            work.mkdir()
            service = start_service(work, env, workers=workers, platforms_file=platforms)
            stack.callback(service.stop)
            services.append(service)
        with httpx.Client(base_url=services[0].url, timeout=30) as http:
            auth = sign_up(http)
            accounts = [
                bind(http, auth, "openai", f"sk-quota-{n}-{uuid.uuid4().hex}")
                for n in range(ACCOUNTS)
            ]
            key = api_key(http, auth)
        limits = httpx.Limits(max_connections=CALLS)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            results = await asyncio.gather(
                *(one_call(client, services[n % instances].url, key) for n in range(CALLS))
            )
        used, reserved, holds, recorded = await ledger(url)
        errors = [line for service in services for line in error_lines(service.log())]

    assert not errors, "\n".join(errors)
    outcomes = [outcome for outcome, _ in results]
    largest_estimate = max(e for _, e in results)
    answered = [o for o in outcomes if o.status == 200]
    refused = [o for o in outcomes if o.status == 429]
    reported = sum(o.tokens for o in answered)
    assert len(answered) + len(refused) == CALLS, [
        o.body for o in outcomes if o.status not in (200, 429)
    ]
    assert sum(used.values()) == recorded == reported
    assert (reserved, holds) == (0, 0)
    assert set(used) == set(accounts)
    overshoot = max(used.values()) - DAILY_LIMIT
    assert overshoot <= largest_estimate
    assert all(u >= DAILY_LIMIT for u in used.values()), used  # every account was used up
    assert refused, "200 calls ask for more than the 3 accounts hold"
    for outcome in refused:
        assert outcome.retry_after is not None and 0 < int(outcome.retry_after) <= 86_400
        # Out of quota, or (a call that queued behind the last calls in flight) busy.
        assert "out of quota" in outcome.body or "busy with other calls" in outcome.body
    with capsys.disabled():
        print(
            f"\n[{kind}: {instances} instance(s) x {workers} worker(s)] {CALLS} calls: "
            f"{len(answered)} answered, {len(refused)} refused with 429; usage recorded "
            f"{recorded} = upstream-reported {reported}; used per account "
            f"{sorted(used.values())} of {DAILY_LIMIT}; largest overshoot {overshoot} "
            f"(largest estimate {largest_estimate})"
        )
