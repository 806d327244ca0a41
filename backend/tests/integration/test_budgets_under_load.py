"""An API key's `tokens_per_day` under load: 40 concurrent calls through gunicorn's workers, on
SQLite, PostgreSQL and MariaDB. The key's budget may be passed by at most one call's estimate,
the calls beyond it are refused with 429 and the budget's reset, and its books match the usage
the platform reported, with no reservation left behind.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import uuid

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from app.models import ApiKeyUsage, BudgetHold, BudgetPeriod
from app.services.calls.usage import estimate
from tests.conftest import TEST_KEY
from tests.helpers.call_books import error_lines
from tests.helpers.databases import empty_database
from tests.helpers.processes import start_service
from tests.helpers.service_client import api_key, bind, fake_platforms_file, sign_up

pytestmark = pytest.mark.serial

CALLS = 40
TOKENS_PER_DAY = 400  # the fake counts a token a prompt word: 40 calls ask for about 1,000
MAX_TOKENS = 20

DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mariadb", marks=pytest.mark.mysql),
]


async def one_call(client: httpx.AsyncClient, key: str) -> tuple[httpx.Response, int]:
    words = " ".join(uuid.uuid4().hex[:6] for _ in range(random.randint(10, 40)))
    messages = [{"role": "user", "content": words}]
    body = {"model": "openai/gpt-4.1-mini", "messages": messages, "max_tokens": MAX_TOKENS}
    answer = await client.post(
        "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    return answer, estimate(messages, {"max_tokens": MAX_TOKENS})


async def budget_books(url: str) -> tuple[int, int, int, int]:
    """The key's tokens used and reserved today, its holds left, and its usage books' total."""
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        used, reserved = (
            await connection.execute(select(BudgetPeriod.used, BudgetPeriod.reserved))
        ).one()
        holds = await connection.scalar(select(func.count()).select_from(BudgetHold))
        recorded = await connection.scalar(select(func.sum(ApiKeyUsage.total_tokens)))
    await engine.dispose()
    return int(used), int(reserved), int(holds or 0), int(recorded or 0)


@pytest.mark.parametrize("kind", DATABASES)
async def test_concurrent_calls_pass_a_key_budget_by_one_estimate_at_most(
    kind, tmp_path, platform_fakes, capsys
):
    env = {
        "LITELLM_CACHE_ENABLED": "false",
        "CALL_USER_RATE_LIMIT": "",
        # Calls wait for the budget's last room while others hold it: long enough that a slow,
        # shared machine still sees every call end in an answer or a spent budget.
        "CALL_QUEUE_SECONDS": "120",
        "CREDENTIAL_KEYS": f"k1:{TEST_KEY}",
        "JWT_SECRET": secrets.token_urlsafe(32),
    }
    platforms = fake_platforms_file(platform_fakes, tmp_path, unlimited=True, lean_only=True)
    async with empty_database(kind, tmp_path) as url:
        env["DATABASE_URL"] = url
        service = start_service(tmp_path, env, workers=2, platforms_file=platforms)
        try:
            with httpx.Client(base_url=service.url, timeout=30) as http:
                auth = sign_up(http)
                bind(http, auth, "openai", f"sk-budget-{uuid.uuid4().hex}")
                key = api_key(http, auth, {"tokens_per_day": TOKENS_PER_DAY})
            limits_http = httpx.Limits(max_connections=CALLS)
            async with httpx.AsyncClient(
                base_url=service.url, timeout=180, limits=limits_http
            ) as client:
                results = await asyncio.gather(*(one_call(client, key) for _ in range(CALLS)))
            used, reserved, holds, recorded = await budget_books(url)
            errors = error_lines(service.log())
        finally:
            service.stop()

    assert not errors, "\n".join(errors)
    answered = [r for r, _ in results if r.status_code == 200]
    refused = [r for r, _ in results if r.status_code == 429]
    assert len(answered) + len(refused) == CALLS, [
        r.text for r, _ in results if r.status_code not in (200, 429)
    ]
    reported = sum(r.json()["usage"]["total_tokens"] for r in answered)
    largest_estimate = max(e for _, e in results)
    assert used == recorded == reported
    assert (reserved, holds) == (0, 0)
    assert TOKENS_PER_DAY <= used <= TOKENS_PER_DAY + largest_estimate
    assert refused, "40 calls ask for more than the budget holds"
    for response in refused:
        assert response.json()["error"]["code"] == "budget_exceeded"
        assert "budget of 400 tokens a day is used up" in response.text
        assert 0 < int(response.headers["retry-after"]) <= 86_400
    with capsys.disabled():
        print(
            f"\n[{kind}: 2 workers] {CALLS} calls on a budget of {TOKENS_PER_DAY} tokens: "
            f"{len(answered)} answered, {len(refused)} refused; used {used} "
            f"(largest estimate {largest_estimate})"
        )
