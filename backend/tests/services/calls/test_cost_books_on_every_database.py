"""The cost columns of the usage books add exactly on SQLite, PostgreSQL and MariaDB: whole
numbers of 1e-12 of a currency, summed by the same upsert as the tokens; NULL stays NULL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.core.database import session_scope, utcnow
from app.models import AccountUsage, ApiKey, ApiKeyUsage
from app.services.calls import usage
from app.services.calls.usage import TokenUsage
from app.services.quota import key_usage
from app.services.quota.cost import Cost, from_units
from app.services.quota.key_usage import KeyUse
from tests.helpers.databases import empty_database, one_limited_account

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mariadb", marks=pytest.mark.mysql),
]
# 1e-12 short of 0.000154125, the smallest unit: nothing may be rounded on the way.
SPENT = Cost(Decimal("0.000154124999"), Decimal("0.000000000001"))


async def _exercise(url: str) -> None:
    engine, factory, _platform, account = await one_limited_account(url, 1000)
    day, now = utcnow().date(), utcnow()
    async with session_scope(factory) as session:
        key = ApiKey(user_id=account.user_id, name="k", prefix="op-x", key_hash="h" * 64)
        session.add(key)
        await session.flush()
        for _ in range(3):
            await usage.add(session, account.id, "m", day, now, usage=TokenUsage(5, 2), cost=SPENT)
            await usage.add(session, account.id, "unpriced", day, now, usage=TokenUsage(5, 2))
            use = KeyUse().plus(TokenUsage(5, 2), SPENT, now)
            await key_usage.add(session, key.id, "p", "m", day, use)
    async with factory() as session:
        priced = await session.get(AccountUsage, (account.id, "m", day))
        unpriced = await session.get(AccountUsage, (account.id, "unpriced", day))
        by_key = await session.get(ApiKeyUsage, (key.id, "p", "m", day))
    assert from_units(priced.cost_units) == 3 * SPENT.cost
    assert from_units(priced.free_covered_units) == Decimal("0.000000000003")
    assert (unpriced.cost_units, unpriced.free_covered_units) == (None, None)
    assert (by_key.total_tokens, by_key.requests) == (21, 3)
    assert from_units(by_key.cost_units) == 3 * SPENT.cost
    await engine.dispose()


@pytest.mark.parametrize("kind", BACKENDS)
async def test_cost_adds_exactly_on_every_database(kind, tmp_path):
    async with empty_database(kind, tmp_path) as url:
        await _exercise(url)
