"""Budgets on users, set by administrators: shown to the user, counting every call the user makes
(with any API key, or a JWT), and refusing with 429 once spent."""

from __future__ import annotations

import pytest

from tests.conftest import new_user
from tests.fakes.upstream import Reply
from tests.helpers.api import account, create_api_key

SAID = [{"role": "user", "content": "hi"}]


async def _user_id(client, auth) -> int:
    return int((await client.get("/api/v1/auth/me", headers=auth)).json()["data"]["id"])


async def _chat(client, bearer: str):
    return await client.post(
        "/v1/chat/completions",
        json={"model": "zhipu/glm-4-flash", "messages": SAID},
        headers={"authorization": bearer},
    )


async def test_a_users_budget_counts_every_key_and_refuses_once_spent(
    client, auth, app, platform_fakes
):
    admin = await new_user(app, admin=True)
    user_id = await _user_id(client, auth)
    path = f"/api/v1/admin/users/{user_id}"
    set_ = await client.patch(path, json={"limits": {"tokens_per_day": 5}}, headers=admin)
    assert set_.status_code == 200, set_.text
    assert set_.json()["data"]["limits"] == {"tokens_per_day": 5}
    bound = await account(client, auth, "zhipu")
    platform_fakes.openai.script(Reply("a b c d e f"), credential=bound["key"])
    first = (await create_api_key(client, auth, "first"))["key"]
    answered = await _chat(client, f"Bearer {first}")
    assert answered.status_code == 200, answered.text
    spent = answered.json()["usage"]["total_tokens"]
    assert spent >= 5
    mine = (await client.get("/api/v1/auth/me/budgets", headers=auth)).json()["data"]
    assert [(b["budget"], b["used"], b["reserved"]) for b in mine["budgets"]] == [
        ("tokens_per_day", str(spent), "0")
    ]
    second = (await create_api_key(client, auth, "second"))["key"]
    for bearer in (f"Bearer {second}", auth["Authorization"]):
        refused = await _chat(client, bearer)
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["code"] == "budget_exceeded"
        assert "Your budget of 5 tokens a day is used up" in refused.json()["error"]["message"]
    lifted = await client.patch(path, json={"limits": None}, headers=admin)
    assert lifted.json()["data"]["budgets"] == []
    platform_fakes.openai.script(Reply(), credential=bound["key"])
    assert (await _chat(client, f"Bearer {second}")).status_code == 200


async def test_only_administrators_set_budgets(client, auth, app):
    other = await new_user(app)
    path = f"/api/v1/admin/users/{await _user_id(client, other)}"
    refused = await client.patch(path, json={"limits": {"tokens_per_day": 5}}, headers=auth)
    assert refused.status_code == 403
    assert (await client.get(path, headers=auth)).status_code == 403


@pytest.mark.parametrize(
    "body", [{"limits": {"tokens_per_day": -1}}, {"limits": {"models": ["x"]}}, {}]
)
async def test_bad_user_budgets_are_refused(client, app, body):
    admin = await new_user(app, admin=True)
    path = f"/api/v1/admin/users/{await _user_id(client, admin)}"
    refused = await client.patch(path, json=body, headers=admin)
    assert refused.status_code == 422, refused.text


async def test_an_unknown_user_is_not_found(client, app):
    admin = await new_user(app, admin=True)
    missing = await client.patch("/api/v1/admin/users/999999", json={"limits": None}, headers=admin)
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "not_found"
