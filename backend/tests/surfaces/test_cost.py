"""Each answered call's list-price cost, from its prompt, cached, completion and reasoning
tokens at the platform's shipped prices, exact to the smallest unit; an unpriced model's cost
is null, not 0."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from tests.fakes.upstream import Reply
from tests.helpers.api import account, create_api_key
from tests.helpers.sdks import openai_sdk

# 1001 prompt tokens of which 3 cached, 7 completion tokens of which 2 thinking.
USED = Reply("one two three four five six seven", prompt_tokens=1001, cached_tokens=3,
             reasoning_tokens=2)  # fmt: skip


async def _row(client, auth, account_id: int, model: str) -> dict:
    rows = (await client.get("/api/v1/oauth/usage?days=2", headers=auth)).json()["data"]
    return next(r for r in rows if r["account_id"] == account_id and r["model"] == model)


@pytest.mark.parametrize(
    ("model", "cost", "currency"),
    [
        # 998 × 0.4 + 3 × 0.1 + 7 × 1.6 = 410.7 per million tokens (USD)
        ("openai/gpt-4.1-mini", "0.0004107", "USD"),
        # 998 × 0.15 + 3 × 0.075 + 7 × 0.6 = 154.125
        ("openai/gpt-4o-mini", "0.000154125", "USD"),
        # 998 × 0.8 + 3 × 0.16 + 5 × 2 + 2 × 8 (thinking priced apart) = 824.88 (CNY)
        ("qwen/qwen-plus", "0.00082488", "CNY"),
    ],
)
async def test_a_call_costs_its_tokens_at_list_price(
    client, auth, platform_fakes, service_url, model, cost, currency
):
    platform, name = model.split("/")
    bound = await account(client, auth, platform)
    platform_fakes.openai.script(USED, USED, credential=bound["key"])
    key = (await create_api_key(client, auth))["key"]
    asked = [{"role": "user", "content": f"Say hello {uuid.uuid4().hex[:8]}"}]
    async with openai_sdk(service_url, key) as sdk:
        answer = await sdk.chat.completions.create(model=model, messages=asked)
        assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (1001, 7)
        row = await _row(client, auth, bound["id"], name)
        assert (row["cost"], row["free_covered"], row["currency"]) == (cost, "0", currency)
        again = [*asked, {"role": "user", "content": "again"}]
        await sdk.chat.completions.create(model=model, messages=again)
    row = await _row(client, auth, bound["id"], name)
    assert Decimal(row["cost"]) == 2 * Decimal(cost)


async def test_an_unpriced_model_costs_null_not_zero(client, auth, platform_fakes, service_url):
    bound = await account(client, auth, "zhipu")
    platform_fakes.openai.script(USED, credential=bound["key"])
    key = (await create_api_key(client, auth))["key"]
    async with openai_sdk(service_url, key) as sdk:
        hi = [{"role": "user", "content": "hi"}]
        await sdk.chat.completions.create(model="zhipu/glm-4.5", messages=hi)
    row = await _row(client, auth, bound["id"], "glm-4.5")
    assert row["total_tokens"] == 1008
    assert (row["cost"], row["free_covered"], row["currency"]) == (None, None, "CNY")


async def test_a_free_tier_model_is_covered_whole(client, auth, platform_fakes, service_url):
    bound = await account(client, auth, "zhipu")
    platform_fakes.openai.script(USED, credential=bound["key"])
    key = (await create_api_key(client, auth))["key"]
    async with openai_sdk(service_url, key) as sdk:
        hi = [{"role": "user", "content": "hi"}]
        await sdk.chat.completions.create(model="zhipu/glm-4-flash", messages=hi)
    row = await _row(client, auth, bound["id"], "glm-4-flash")
    assert (row["cost"], row["free_covered"]) == ("0", "0")


def _cost_metric(body: str, platform: str, currency: str) -> Decimal:
    prefix = f'oauth_proxy_cost_total{{currency="{currency}",platform="{platform}"}} '
    lines = [line for line in body.splitlines() if line.startswith(prefix)]
    return Decimal(lines[0].removeprefix(prefix)) if lines else Decimal(0)


async def test_the_summary_is_the_sum_of_the_calls(client, auth, platform_fakes, service_url):
    metrics_before = (await client.get("/metrics")).text
    calls = [("openai", "gpt-4.1-mini", 2), ("openai", "gpt-4o-mini", 1), ("qwen", "qwen-plus", 3),
             ("zhipu", "glm-4.5", 1), ("zhipu", "glm-4-flash", 2)]  # fmt: skip
    key = (await create_api_key(client, auth))["key"]
    bound = {
        platform: await account(client, auth, platform) for platform in ("openai", "qwen", "zhipu")
    }
    for platform, one in bound.items():
        times = sum(n for p, _, n in calls if p == platform)
        platform_fakes.openai.script(*[USED] * times, credential=one["key"])
    async with openai_sdk(service_url, key) as sdk:
        for platform, name, times in calls:
            for n in range(times):
                asked = [{"role": "user", "content": f"call {n} {uuid.uuid4().hex[:8]}"}]
                await sdk.chat.completions.create(model=f"{platform}/{name}", messages=asked)
    rows = (await client.get("/api/v1/oauth/usage?days=30", headers=auth)).json()["data"]
    summary = (await client.get("/api/v1/oauth/usage/summary?days=30", headers=auth)).json()
    by_currency = {c["currency"]: c for c in summary["data"]["currencies"]}
    assert set(by_currency) == {"USD", "CNY"}
    for currency, total in by_currency.items():
        mine = [r for r in rows if r["currency"] == currency]
        priced = [r for r in mine if r["cost"] is not None]
        assert Decimal(total["cost"]) == sum(Decimal(r["cost"]) for r in priced)
        assert total["tokens"] == sum(r["total_tokens"] for r in mine)
        assert total["unpriced_tokens"] == sum(r["total_tokens"] for r in mine if r["cost"] is None)
        assert sum(Decimal(m["cost"]) for m in total["models"]) == Decimal(total["cost"])
        assert sum(Decimal(p["cost"]) for p in total["platforms"]) == Decimal(total["cost"])
        assert sum(Decimal(k["cost"]) for k in total["api_keys"]) == Decimal(total["cost"])
        assert sum(k["tokens"] for k in total["api_keys"]) == total["tokens"]
    # 2 × 0.0004107 + 0.000154125; 3 × 0.00082488 (+ free glm-4-flash, unpriced glm-4.5)
    assert by_currency["USD"]["cost"] == "0.000975525"
    assert by_currency["CNY"]["cost"] == "0.00247464"
    assert by_currency["CNY"]["unpriced_tokens"] == 1008
    assert [(k["name"], k["cost"]) for k in by_currency["USD"]["api_keys"]] == [
        ("laptop", "0.000975525")
    ]
    metrics_after = (await client.get("/metrics")).text
    grown = _cost_metric(metrics_after, "qwen", "CNY") - _cost_metric(metrics_before, "qwen", "CNY")
    assert abs(grown - Decimal("0.00247464")) < Decimal("1e-12")
    bad = await client.get("/api/v1/oauth/usage/summary?days=0", headers=auth)
    assert bad.status_code == 422
