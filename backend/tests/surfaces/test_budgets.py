"""An API key's budgets — tokens a day, list-price cost a month — set on creation, shown with where
they stand and edited with GET/PATCH; a call past a budget refused with 429 and the budget's
reset on every API surface, in that surface's own error shape, before any platform is asked; a
call that fails gives back what it held."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.fakes.upstream import Error, Reply
from tests.helpers.api import account

SAID = [{"role": "user", "content": "hi"}]


async def _key(client, auth, limits: dict[str, Any] | None) -> dict[str, Any]:
    created = await client.post(
        "/api/v1/auth/api-keys", json={"name": "script", "limits": limits}, headers=auth
    )
    assert created.status_code == 200, created.text
    return created.json()["data"]


async def _budgets(client, auth, key_id: int) -> dict[str, dict[str, str]]:
    shown = (await client.get(f"/api/v1/auth/api-keys/{key_id}", headers=auth)).json()["data"]
    return {b["budget"]: b for b in shown["budgets"]}


async def _chat(client, key: str, model: str = "zhipu/glm-4-flash"):
    return await client.post(
        "/v1/chat/completions",
        json={"model": model, "messages": SAID},
        headers={"authorization": f"Bearer {key}"},
    )


def _requests(model: str) -> list[tuple[str, str, dict[str, Any], str]]:
    """(surface, path, body, header) for one model on each API surface."""
    return [
        ("chat", "/v1/chat/completions", {"model": model, "messages": SAID}, "authorization"),
        ("responses", "/v1/responses", {"model": model, "input": "hi"}, "authorization"),
        ("anthropic", "/v1/messages", {"model": model, "max_tokens": 10, "messages": SAID},
         "x-api-key"),
        ("gemini", f"/v1beta/models/{model}:generateContent",
         {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}, "x-goog-api-key"),
    ]  # fmt: skip


def _says_too_many(surface: str, body: dict[str, Any]) -> str:
    """The message, once the body is the surface's own shape of a 429."""
    if surface == "anthropic":
        assert body["type"] == "error" and body["error"]["type"] == "rate_limit_error"
        return str(body["error"]["message"])
    if surface == "gemini":
        assert body["error"]["status"] == "RESOURCE_EXHAUSTED" and body["error"]["code"] == 429
        return str(body["error"]["message"])
    assert body["error"]["code"] == "budget_exceeded"
    return str(body["error"]["message"])


async def test_budgets_are_shown_and_edited(client, auth):
    limits = {"tokens_per_day": 1000, "cost_per_month": {"CNY": "50.00"}, "models": ["zhipu/*"]}
    created = await _key(client, auth, limits)
    assert created["limits"] == limits
    shown = await _budgets(client, auth, created["id"])
    assert set(shown) == {"tokens_per_day", "cost_per_month:CNY"}
    tokens = shown["tokens_per_day"]
    assert (tokens["limit"], tokens["used"], tokens["reserved"]) == ("1000", "0", "0")
    midnight = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), datetime.min.time())
    assert datetime.fromisoformat(tokens["resets_at"]) == midnight.replace(tzinfo=UTC)
    assert shown["cost_per_month:CNY"]["limit"] == "50.00"
    assert datetime.fromisoformat(shown["cost_per_month:CNY"]["resets_at"]).day == 1
    path = f"/api/v1/auth/api-keys/{created['id']}"
    edited = await client.patch(path, json={"limits": {"tokens_per_day": 5}}, headers=auth)
    assert edited.json()["data"]["limits"] == {"tokens_per_day": 5}
    assert [b["budget"] for b in edited.json()["data"]["budgets"]] == ["tokens_per_day"]
    lifted = await client.patch(path, json={"limits": None}, headers=auth)
    assert lifted.json()["data"]["budgets"] == []


@pytest.mark.parametrize(
    "limits",
    [
        {"tokens_per_day": 0},
        {"tokens_per_day": 1.5},
        {"cost_per_month": {"EUR": "5"}},
        {"cost_per_month": {"CNY": 5.0}},
        {"cost_per_month": {"CNY": "-1"}},
        {"cost_per_month": {"CNY": "1.0000001"}},
        {"cost_per_month": {}},
    ],
)
async def test_bad_budgets_are_refused(client, auth, limits):
    body = {"name": "script", "limits": limits}
    refused = await client.post("/api/v1/auth/api-keys", json=body, headers=auth)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error_code"] == "validation_error"


async def test_a_spent_budget_refuses_on_every_surface(client, auth, platform_fakes):
    bound = await account(client, auth, "zhipu")
    platform_fakes.openai.script(Reply("one two three"), credential=bound["key"])
    key = await _key(client, auth, {"tokens_per_day": 2})
    answered = await _chat(client, key["key"])
    assert answered.status_code == 200, answered.text
    spent = answered.json()["usage"]["total_tokens"]
    tokens = (await _budgets(client, auth, key["id"]))["tokens_per_day"]
    assert (tokens["used"], tokens["reserved"]) == (str(spent), "0")
    asked_before = len(platform_fakes.openai.model_requests)
    for surface, path, body, header in _requests("zhipu/glm-4-flash"):
        value = f"Bearer {key['key']}" if header == "authorization" else key["key"]
        refused = await client.post(path, json=body, headers={header: value})
        assert refused.status_code == 429, (surface, refused.text)
        message = _says_too_many(surface, refused.json())
        assert "budget of 2 tokens a day" in message and "resets at" in message, message
        assert 0 < int(refused.headers["retry-after"]) <= 86_400
    assert len(platform_fakes.openai.model_requests) == asked_before


async def test_a_cost_budget_counts_what_calls_would_be_billed(client, auth, platform_fakes):
    bound = await account(client, auth, "openai")
    # 1000 prompt and 10 completion tokens of gpt-4.1-mini: 1000 × 0.4 + 10 × 1.6 = 416e-6 USD
    reply = Reply(" ".join(["word"] * 10), prompt_tokens=1000)
    platform_fakes.openai.script(reply, reply, credential=bound["key"])
    key = await _key(client, auth, {"cost_per_month": {"USD": "0.0005"}})
    assert (await _chat(client, key["key"], "openai/gpt-4.1-mini")).status_code == 200
    cost = (await _budgets(client, auth, key["id"]))["cost_per_month:USD"]
    assert (Decimal(cost["used"]), cost["reserved"]) == (Decimal("0.000416"), "0")
    assert (await _chat(client, key["key"], "openai/gpt-4.1-mini")).status_code == 200
    refused = await _chat(client, key["key"], "openai/gpt-4.1-mini")
    assert refused.status_code == 429
    assert "budget of 0.0005 USD a month" in refused.json()["error"]["message"]
    # A call on a platform priced in another currency does not count on a USD budget.
    await account(client, auth, "zhipu")
    assert (await _chat(client, key["key"])).status_code == 200


async def test_a_failed_call_gives_back_what_it_held(client, auth, platform_fakes):
    bound = await account(client, auth, "zhipu")
    failing = Error(500, {"error": {"message": "down", "type": "server_error"}})
    platform_fakes.openai.script(failing, failing, failing, credential=bound["key"])
    key = await _key(client, auth, {"tokens_per_day": 100_000})
    failed = await _chat(client, key["key"])
    assert failed.status_code == 503, failed.text
    tokens = (await _budgets(client, auth, key["id"]))["tokens_per_day"]
    assert (tokens["used"], tokens["reserved"]) == ("0", "0")


async def test_a_key_without_budgets_writes_no_budget_books(client, auth, platform_fakes, app):
    from sqlalchemy import func, select

    from app.models import BudgetHold, BudgetPeriod

    bound = await account(client, auth, "zhipu")
    platform_fakes.openai.script(Reply(), credential=bound["key"])
    key = await _key(client, auth, {"models": ["zhipu/*"]})
    factory = app.state.context.factory
    async with factory() as session:
        before = await session.scalar(select(func.count()).select_from(BudgetPeriod))
    assert (await _chat(client, key["key"])).status_code == 200
    async with factory() as session:
        after = await session.scalar(select(func.count()).select_from(BudgetPeriod))
        holds = await session.scalar(select(func.count()).select_from(BudgetHold))
    assert (after, holds) == (before, 0)


async def _budget_alerts(client, auth) -> list[dict[str, Any]]:
    listed = (await client.get("/api/v1/oauth/alerts", headers=auth)).json()["data"]
    return [a for a in listed if a["kind"] == "budget_reached"]


async def test_alerts_at_80_and_100_percent_once_a_period(client, auth, platform_fakes, app):
    from app.services.alerts import budget_alerts

    bound = await account(client, auth, "zhipu")
    # "hi" is one prompt token: 8, then 11, then 13 tokens of a budget of 10.
    platform_fakes.openai.script(
        Reply("a b c d e f g"), Reply("a b"), Reply("a"), credential=bound["key"]
    )
    key = await _key(client, auth, {"tokens_per_day": 10})
    assert (await _chat(client, key["key"])).status_code == 200
    (eighty,) = await _budget_alerts(client, auth)
    assert "“script”" in eighty["message"] and "10 tokens a day is 80% used" in eighty["message"]
    assert (await _chat(client, key["key"])).status_code == 200
    raised = await _budget_alerts(client, auth)
    assert [a["message"].split(" is ")[1][:9] for a in raised] == ["100% used", "80% used "]
    assert (await _chat(client, key["key"])).status_code == 429
    assert len(await _budget_alerts(client, auth)) == 2
    factory = app.state.context.factory
    assert await budget_alerts.resolve_ended(factory, datetime.now(UTC)) == []
    resolved = await budget_alerts.resolve_ended(factory, datetime.now(UTC) + timedelta(days=1))
    assert {alert.id for _, alert in resolved} >= {a["id"] for a in raised}
    assert all(a["resolved_at"] for a in await _budget_alerts(client, auth))


async def test_a_streamed_call_settles_its_budget_to_what_it_used(client, auth, platform_fakes):
    bound = await account(client, auth, "zhipu")
    platform_fakes.openai.script(Reply("one two three four", chunks=2), credential=bound["key"])
    key = await _key(client, auth, {"tokens_per_day": 100_000})
    body = {
        "model": "zhipu/glm-4-flash",
        "messages": SAID,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    streamed = await client.post(
        "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {key['key']}"}
    )
    assert streamed.status_code == 200, streamed.text
    chunks = [
        json.loads(line.removeprefix("data: "))
        for line in streamed.text.splitlines()
        if line.startswith("data: {")
    ]
    (usage,) = [c["usage"] for c in chunks if c.get("usage")]
    tokens = (await _budgets(client, auth, key["id"]))["tokens_per_day"]
    assert (tokens["used"], tokens["reserved"]) == (str(usage["total_tokens"]), "0")
