"""Each answered call's list-price cost, from its prompt, cached, completion and reasoning
tokens at the platform's shipped prices, exact to the smallest unit; an unpriced model's cost
is null, not 0."""

from __future__ import annotations

import uuid
from decimal import Decimal

import openai
import pytest

from tests.fakes.upstream import Reply
from tests.helpers.api import account, create_api_key

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
    sdk = openai.OpenAI(base_url=service_url + "/v1", api_key=key, max_retries=0)
    asked = [{"role": "user", "content": f"Say hello {uuid.uuid4().hex[:8]}"}]
    answer = sdk.chat.completions.create(model=model, messages=asked)
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (1001, 7)
    row = await _row(client, auth, bound["id"], name)
    assert (row["cost"], row["free_covered"], row["currency"]) == (cost, "0", currency)
    sdk.chat.completions.create(
        model=model, messages=[*asked, {"role": "user", "content": "again"}]
    )
    row = await _row(client, auth, bound["id"], name)
    assert Decimal(row["cost"]) == 2 * Decimal(cost)


async def test_an_unpriced_model_costs_null_not_zero(client, auth, platform_fakes, service_url):
    bound = await account(client, auth, "zhipu")
    platform_fakes.openai.script(USED, credential=bound["key"])
    key = (await create_api_key(client, auth))["key"]
    sdk = openai.OpenAI(base_url=service_url + "/v1", api_key=key, max_retries=0)
    sdk.chat.completions.create(model="zhipu/glm-4.5", messages=[{"role": "user", "content": "hi"}])
    row = await _row(client, auth, bound["id"], "glm-4.5")
    assert row["total_tokens"] == 1008
    assert (row["cost"], row["free_covered"], row["currency"]) == (None, None, "CNY")


async def test_a_free_tier_model_is_covered_whole(client, auth, platform_fakes, service_url):
    bound = await account(client, auth, "zhipu")
    platform_fakes.openai.script(USED, credential=bound["key"])
    key = (await create_api_key(client, auth))["key"]
    sdk = openai.OpenAI(base_url=service_url + "/v1", api_key=key, max_retries=0)
    sdk.chat.completions.create(
        model="zhipu/glm-4-flash", messages=[{"role": "user", "content": "hi"}]
    )
    row = await _row(client, auth, bound["id"], "glm-4-flash")
    assert (row["cost"], row["free_covered"]) == ("0", "0")
