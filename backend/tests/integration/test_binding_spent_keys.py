"""A key the platform recognises but will not serve now — its balance or quota spent, or rate-
limited — is a valid credential: it is bound and shown `exhausted` or `cooling` with when it
comes back, on every platform, each answering its vendor's own error to the key check. A key the
platform refuses is still refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.fakes.upstream import Error, errors
from tests.helpers.api import key_for
from tests.helpers.calls import fake_of

SPENT: list[tuple[str, Callable[[], Error], str]] = [
    ("qwen", errors.dashscope_arrearage, "exhausted"),
    ("openai", errors.openai_insufficient_quota, "exhausted"),
    ("claude", errors.anthropic_credit_balance_too_low, "exhausted"),
    ("baidu", lambda: errors.qianfan("17", message="Open api daily request limit reached"),
     "exhausted"),
    ("zhipu", lambda: errors.zhipu("1113"), "exhausted"),
    ("spark", lambda: errors.spark("11200"), "exhausted"),
    ("gemini", errors.gemini_quota_exhausted, "cooling"),  # a per-model daily quota
    ("doubao", errors.ark_account_overdue, "exhausted"),
    ("openai", lambda: errors.openai_rate_limited(retry_after=30), "cooling"),
    ("zhipu", lambda: errors.zhipu("1302"), "cooling"),
]  # fmt: skip


async def bind_with(client, auth, platform_fakes, platform: str, answer: Error):
    key = key_for(platform)
    fake = fake_of(platform_fakes, platform)
    fake.listing_errors[key] = answer  # platforms whose key check lists the models
    fake.script(answer, credential=key)  # platforms whose key check is a one-token call
    return await client.post(
        "/api/v1/oauth/initiate",
        json={"platform": platform, "account_name": f"spent {platform}",
              "credentials": {"api_key": key}},
        headers=auth,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("platform", "answer", "status"), SPENT, ids=[f"{p}-{s}" for p, _, s in SPENT]
)
async def test_a_spent_or_limited_key_is_bound_and_shown_so(
    client, auth, platform_fakes, platform, answer, status
):
    response = await bind_with(client, auth, platform_fakes, platform, answer())
    assert response.status_code == 200, response.text
    account = response.json()["data"]["account"]
    assert account["status"] == status and account["reset_at"] is not None
    listed = (await client.get("/api/v1/oauth/accounts", headers=auth)).json()["data"]
    assert [a["status"] for a in listed if a["id"] == account["id"]] == [status]


async def test_a_refused_key_is_still_refused(client, auth, platform_fakes):
    response = await bind_with(client, auth, platform_fakes, "zhipu", errors.zhipu("1002"))
    assert response.status_code == 400
    assert response.json()["error_code"] == "credential_rejected"
