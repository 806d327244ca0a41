"""Account health as the account list tells it: who says an account is out of quota, a rest's end
apart from the quota's reset, a platform an administrator switched off, the last day's calls from
the request log; and the Test call, made on that account alone through the call path."""

from __future__ import annotations

import uuid

from tests.conftest import new_user
from tests.fakes.upstream import errors
from tests.helpers.api import account, accounts_by_id, bind, key_for
from tests.helpers.calls import fake_of, said


async def chat(client, auth, model: str = "zhipu/glm-4-flash"):
    body = {"model": model, "messages": said()}
    return await client.post("/v1/chat/completions", json=body, headers=auth)


async def test_an_account_the_platform_calls_spent_says_so(client, auth, platform_fakes):
    bound = await account(client, auth, "zhipu")
    fake_of(platform_fakes, "zhipu").script(errors.zhipu("1113"), credential=bound["key"])
    assert (await chat(client, auth)).status_code == 429

    shown = (await accounts_by_id(client, auth))[bound["id"]]
    assert (shown["status"], shown["shown_status"]) == ("exhausted", "exhausted")
    assert shown["exhausted_by"] == "platform"  # not this service's count, which is 0
    assert shown["quota_used"] == 0 and shown["reset_at"] is not None


async def test_a_rest_ends_apart_from_the_quota_reset(client, auth, platform_fakes):
    bound = await account(client, auth, "zhipu")
    fake_of(platform_fakes, "zhipu").script(errors.zhipu("1302"), credential=bound["key"])
    assert (await chat(client, auth)).status_code == 429

    shown = (await accounts_by_id(client, auth))[bound["id"]]
    assert (shown["shown_status"], shown["exhausted_by"]) == ("cooling", None)
    assert shown["reset_at"] == shown["cooldowns"][0]["until"]
    assert shown["reset_at"] < shown["quota_reset_at"]


async def test_a_platform_switched_off_shows_on_its_accounts(app, client, auth):
    admin = await new_user(app, admin=True)
    platform_id = f"health-{uuid.uuid4().hex[:6]}"
    path = f"/api/v1/admin/platforms/{platform_id}"
    config = (await client.get("/api/v1/admin/platforms/zhipu", headers=admin)).json()["data"]
    config = {k: v for k, v in config.items() if k != "updated_at"} | {"platform_id": platform_id}
    assert (await client.put(path, json=config, headers=admin)).status_code == 200
    bound = await bind(client, auth, platform=platform_id, credentials={"api_key": key_for("x")})
    assert (await accounts_by_id(client, auth))[bound["id"]]["shown_status"] == "active"

    off = await client.put(path, json=config | {"is_enabled": False}, headers=admin)
    assert off.status_code == 200, off.text
    shown = (await accounts_by_id(client, auth))[bound["id"]]
    assert (shown["status"], shown["shown_status"]) == ("active", "platform_disabled")


async def test_the_last_days_calls_from_the_request_log(client, auth, platform_fakes):
    bound = await account(client, auth, "zhipu")
    for _ in range(2):
        assert (await chat(client, auth)).status_code == 200
    assert (await account(client, auth, "qwen"))["id"] != bound["id"]
    fake_of(platform_fakes, "zhipu").script(errors.zhipu("1302"), credential=bound["key"])
    assert (await chat(client, auth)).status_code == 429

    listed = await accounts_by_id(client, auth)
    calls = listed[bound["id"]]["calls"]
    assert calls["calls"] == 3 and calls["success_rate"] == 2 / 3
    assert calls["median_latency_ms"] is not None and calls["median_latency_ms"] >= 0
    last = calls["last_error"]
    assert (last["status"], last["error_kind"]) == (429, "rate_limited")
    assert last["error_code"] == "accounts_resting"  # what the caller was told
    quiet = next(a for a in listed.values() if a["id"] != bound["id"])["calls"]
    assert quiet == {"calls": 0, "success_rate": None, "median_latency_ms": None,
                     "last_error": None}  # fmt: skip


async def test_the_test_call_uses_that_account_alone(app, client, auth, platform_fakes):
    first = await account(client, auth, "zhipu")
    second = await account(client, auth, "zhipu")
    fake = fake_of(platform_fakes, "zhipu")
    fake.requests.clear()

    for bound in (first, second, first):
        tested = await client.post(f"/api/v1/oauth/accounts/{bound['id']}/test", headers=auth)
        assert tested.status_code == 200, tested.text
        result = tested.json()["data"]
        assert (result["outcome"], result["status"]) == ("ok", 200)
        assert result["model"] == "zhipu/glm-4-flash" and result["latency_ms"] >= 0
    assert [r.credential for r in fake.model_requests] == [
        first["key"],
        second["key"],
        first["key"],
    ]

    # A refused credential is the test's outcome, and no other account is tried.
    fake.script(errors.zhipu("1000"), credential=second["key"])
    failed = await client.post(f"/api/v1/oauth/accounts/{second['id']}/test", headers=auth)
    result = failed.json()["data"]
    assert result["outcome"] == "failed" and result["status"] >= 400
    assert result["message"] and result["error_code"]
    assert [r.credential for r in fake.model_requests][3:] == [second["key"]]
    # The tests are in the request log, on their accounts.
    rows = (await client.get("/api/v1/oauth/requests", headers=auth)).json()["data"]
    assert [r["account_id"] for r in rows] == [second["id"], first["id"], second["id"], first["id"]]
    assert rows[0]["surface"] == "/api/v1/oauth/accounts/{account_id}/test"
    assert (rows[0]["status"], rows[0]["error_code"]) == (result["status"], result["error_code"])
    assert [r["status"] for r in rows[1:]] == [200, 200, 200]

    stranger = await new_user(app)
    other = await client.post(f"/api/v1/oauth/accounts/{first['id']}/test", headers=stranger)
    assert other.status_code == 404
