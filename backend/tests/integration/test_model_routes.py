"""Model routes across three platforms on the fakes (zhipu and qwen on the OpenAI-format fake,
Gemini on Google's): failover across targets with the vendors' real errors, strategies, scopes."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest

from app.api.deps import app_context
from app.core.database import session_scope
from app.models import OAuthAccount
from tests.conftest import new_user
from tests.fakes.upstream import errors
from tests.helpers.api import account, accounts_by_id
from tests.helpers.calls import fake_of, said, sse_events, streamed_text

TARGETS = ["zhipu/glm-4-flash", "qwen/qwen-turbo", "gemini/gemini-2.5-flash"]


def route_name() -> str:
    return f"r-{uuid.uuid4().hex[:8]}"


async def save_route(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    name: str,
    targets: list[str] | list[dict[str, Any]],
    strategy: str = "ordered",
    scope: str = "oauth",
) -> httpx.Response:
    rows = [t if isinstance(t, dict) else {"model": t} for t in targets]
    body = {"targets": rows, "strategy": strategy}
    return await client.put(f"/api/v1/{scope}/routes/{name}", json=body, headers=auth)


async def call_route(
    client: httpx.AsyncClient, auth: dict[str, str], name: str, **body: Any
) -> httpx.Response:
    payload = {"model": name, "messages": said()} | body
    return await client.post("/api/v1/oauth/chat/completions", json=payload, headers=auth)


async def three_platforms(client, auth, fakes) -> dict[str, dict]:
    """An account on each platform, with the binding's own checks forgotten by the fakes."""
    bound = {p: await account(client, auth, p) for p in ("zhipu", "qwen", "gemini")}
    forget(fakes)
    return bound


def forget(fakes: Any) -> None:
    for platform in ("zhipu", "gemini"):
        fake_of(fakes, platform).requests.clear()


def calls_with(fakes: Any, platform: str, key: str) -> int:
    return sum(1 for r in fake_of(fakes, platform).model_requests if r.credential == key)


async def test_out_of_quota_moves_to_the_next_target_and_charges_the_first_nothing(
    client, auth, platform_fakes
):
    bound = await three_platforms(client, auth, platform_fakes)
    name = route_name()
    assert (await save_route(client, auth, name, TARGETS)).status_code == 200
    fake_of(platform_fakes, "zhipu").script(errors.zhipu("1113"), credential=bound["zhipu"]["key"])

    response = await call_route(client, auth, name)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["choices"][0]["message"]["content"] == "Hello!"
    assert response.json()["data"]["model"] == "qwen-turbo"  # the served model
    assert response.headers["x-oauth-proxy-target"] == "qwen/qwen-turbo"
    assert response.headers["x-oauth-proxy-account"] == str(bound["qwen"]["id"])
    assert calls_with(platform_fakes, "zhipu", bound["zhipu"]["key"]) == 1
    assert calls_with(platform_fakes, "qwen", bound["qwen"]["key"]) == 1
    assert calls_with(platform_fakes, "gemini", bound["gemini"]["key"]) == 0
    mine = await accounts_by_id(client, auth)
    assert mine[bound["zhipu"]["id"]]["quota_used"] == 0
    assert mine[bound["zhipu"]["id"]]["status"] == "exhausted"
    assert mine[bound["qwen"]["id"]]["quota_used"] == 4
    # The usage books name the route asked for and the target that served.
    booked = await client.get("/api/v1/oauth/usage/routes", headers=auth)
    assert booked.status_code == 200, booked.text
    rows = [r for r in booked.json()["data"] if r["route"] == name]
    assert [(r["platform_id"], r["model"], r["total_tokens"], r["requests"]) for r in rows] == [
        ("qwen", "qwen-turbo", 4, 1)
    ]


async def test_a_rate_limited_target_rests_and_the_call_moves_on(client, auth, platform_fakes):
    bound = await three_platforms(client, auth, platform_fakes)
    name = route_name()
    await save_route(client, auth, name, TARGETS)
    fake_of(platform_fakes, "zhipu").script(errors.zhipu("1302"), credential=bound["zhipu"]["key"])

    assert (await call_route(client, auth, name)).status_code == 200
    assert calls_with(platform_fakes, "qwen", bound["qwen"]["key"]) == 1
    assert (await accounts_by_id(client, auth))[bound["zhipu"]["id"]]["status"] == "cooling"
    # Resting, the first target is skipped without an attempt.
    assert (await call_route(client, auth, name)).status_code == 200
    assert calls_with(platform_fakes, "zhipu", bound["zhipu"]["key"]) == 1
    assert calls_with(platform_fakes, "qwen", bound["qwen"]["key"]) == 2


async def test_every_target_out_answers_429_with_the_earliest_retry_after(
    client, auth, platform_fakes
):
    bound = await three_platforms(client, auth, platform_fakes)
    name = route_name()
    await save_route(client, auth, name, TARGETS)
    fake_of(platform_fakes, "zhipu").script(errors.zhipu("1113"), credential=bound["zhipu"]["key"])
    fake_of(platform_fakes, "qwen").script(
        errors.openai_rate_limited(retry_after=7), credential=bound["qwen"]["key"]
    )
    fake_of(platform_fakes, "gemini").script(
        errors.gemini_quota_exhausted(daily=False, retry_delay="37s"),
        credential=bound["gemini"]["key"],
    )
    response = await call_route(client, auth, name)
    assert response.status_code == 429, response.text
    assert response.json()["error_code"] == "route_exhausted"
    assert name in response.json()["message"]
    assert 1 <= int(response.headers["Retry-After"]) <= 7


async def test_a_stream_fails_over_before_its_first_byte(client, auth, platform_fakes):
    bound = await three_platforms(client, auth, platform_fakes)
    name = route_name()
    await save_route(client, auth, name, TARGETS)
    fake_of(platform_fakes, "zhipu").script(errors.zhipu("1113"), credential=bound["zhipu"]["key"])
    response = await call_route(client, auth, name, stream=True)
    assert response.status_code == 200, response.text
    assert response.headers["x-oauth-proxy-target"] == "qwen/qwen-turbo"
    assert streamed_text(sse_events(response.text)) == "Hello!"
    assert calls_with(platform_fakes, "qwen", bound["qwen"]["key"]) == 1


async def test_a_bad_request_does_not_fail_over(client, auth, platform_fakes):
    bound = await three_platforms(client, auth, platform_fakes)
    name = route_name()
    await save_route(client, auth, name, TARGETS)
    refusal = errors.zhipu("1214")
    fake_of(platform_fakes, "zhipu").script(refusal, credential=bound["zhipu"]["key"])
    response = await call_route(client, auth, name)
    assert response.status_code == 400, response.text
    assert calls_with(platform_fakes, "qwen", bound["qwen"]["key"]) == 0


async def test_a_target_without_an_account_is_skipped(client, auth, platform_fakes):
    qwen = await account(client, auth, "qwen")
    forget(platform_fakes)
    name = route_name()
    await save_route(client, auth, name, TARGETS)
    assert (await call_route(client, auth, name)).status_code == 200
    assert calls_with(platform_fakes, "qwen", qwen["key"]) == 1


async def test_weighted_spreads_calls_by_weight(app, client, auth, platform_fakes):
    """1,000 plans from a seeded source: each target's share within ±10% of its weight's."""
    await three_platforms(client, auth, platform_fakes)
    name = route_name()
    weights = {TARGETS[0]: 1, TARGETS[1]: 3, TARGETS[2]: 6}
    rows = [{"model": m, "weight": w} for m, w in weights.items()]
    assert (await save_route(client, auth, name, rows, "weighted")).status_code == 200
    path = app_context(app).call_path
    path.draw = random.Random(15)
    user_id = await user_id_of(client, auth)
    from app.schemas.chat import ChatCompletionRequest

    request = ChatCompletionRequest(model=name, messages=said())
    firsts = Counter()
    for _ in range(1000):
        call = await path.prepare(user_id, request)
        firsts[f"{call.platform.platform_id}/{call.model}"] += 1
    for model, weight in weights.items():
        expected = 1000 * weight / 10
        assert abs(firsts[model] - expected) <= 0.1 * expected, firsts


async def user_id_of(client, auth) -> int:
    return int((await client.get("/api/v1/auth/me", headers=auth)).json()["data"]["id"])


async def test_most_remaining_picks_the_largest_share_left(app, client, auth, platform_fakes):
    bound = await three_platforms(client, auth, platform_fakes)
    limits = {"zhipu": 100, "qwen": 1000, "gemini": 100}
    async with session_scope(app_context(app).factory) as session:
        for platform, limit in limits.items():
            row = await session.get(OAuthAccount, bound[platform]["id"])
            row.quota_limit = limit
    name = route_name()
    await save_route(client, auth, name, TARGETS, "most_remaining")
    assert (await call_route(client, auth, name)).status_code == 200  # all full: as listed
    assert calls_with(platform_fakes, "zhipu", bound["zhipu"]["key"]) == 1
    assert (await call_route(client, auth, name)).status_code == 200  # zhipu 96% left
    assert calls_with(platform_fakes, "qwen", bound["qwen"]["key"]) == 1
    assert (await call_route(client, auth, name)).status_code == 200  # qwen 99.6% left
    assert calls_with(platform_fakes, "gemini", bound["gemini"]["key"]) == 1
    assert (await call_route(client, auth, name)).status_code == 200  # 96%, 99.6%, 96%
    assert calls_with(platform_fakes, "qwen", bound["qwen"]["key"]) == 2


async def test_a_users_route_shadows_the_deployment_route_for_that_user_only(
    app, client, auth, platform_fakes
):
    admin = await new_user(app, admin=True)
    other = await new_user(app)
    mine = await account(client, auth, "qwen")
    theirs = await account(client, other, "zhipu")
    forget(platform_fakes)
    name = route_name()
    saved = await save_route(client, admin, name, ["zhipu/glm-4-flash"], scope="admin")
    assert saved.status_code == 200, saved.text
    assert (await save_route(client, auth, name, ["qwen/qwen-turbo"])).status_code == 200

    assert (await call_route(client, auth, name)).status_code == 200
    assert calls_with(platform_fakes, "qwen", mine["key"]) == 1
    assert (await call_route(client, other, name)).status_code == 200
    assert calls_with(platform_fakes, "zhipu", theirs["key"]) == 1

    listed = (await client.get("/api/v1/oauth/routes", headers=auth)).json()["data"]
    scopes = {(r["name"], r["scope"]) for r in listed if r["name"] == name}
    assert scopes == {(name, "user"), (name, "deployment")}
    # Another user's route is invisible to them, and theirs to delete only.
    gone = await client.delete(f"/api/v1/oauth/routes/{name}", headers=other)
    assert gone.status_code == 404 and gone.json()["error_code"] == "route_not_found"
    assert (await client.delete(f"/api/v1/oauth/routes/{name}", headers=auth)).status_code == 200
    refused = await client.put(
        f"/api/v1/admin/routes/{name}", json={"targets": [{"model": TARGETS[0]}]}, headers=auth
    )
    assert refused.status_code == 403


@pytest.mark.parametrize(
    ("name", "targets", "status"),
    [
        ("claude-sonnet-4-5", ["qwen/qwen-turbo"], 200),  # a route may shadow a model name
        ("a:b.c-d_e", ["qwen/qwen-turbo"], 200),
        ("bad name", ["qwen/qwen-turbo"], 400),
        ("x", ["nowhere/qwen-turbo"], 400),
        ("x", ["qwen/no-such-model"], 400),
        ("x", [], 422),
    ],
)
async def test_route_names_and_targets_are_checked_on_save(client, auth, name, targets, status):
    response = await save_route(client, auth, name, targets)
    assert response.status_code == status, response.text
    if status == 400:
        assert response.json()["error_code"] in ("invalid_route_name", "unknown_route_target")


async def test_the_shipped_free_route_spends_the_free_tier_models(
    app, client, auth, platform_fakes
):
    listed = (await client.get("/api/v1/oauth/routes", headers=auth)).json()["data"]
    free = next(r for r in listed if r["name"] == "free")
    assert free["scope"] == "deployment" and free["strategy"] == "most_remaining"
    models = {t["model"] for t in free["targets"]}
    assert {"zhipu/glm-4-flash", "spark/lite", "baidu/ernie-speed-128k"} <= models
    assert {"gemini/gemini-2.5-flash", "baidu/ernie-lite-8k"} <= models
    assert not any(m.startswith(("openai/", "claude/")) for m in models)

    spark = await account(client, auth, "spark")
    forget(platform_fakes)
    response = await call_route(client, auth, "free")
    assert response.status_code == 200, response.text
    assert calls_with(platform_fakes, "spark", spark["key"]) == 1  # the one target with an account


def test_the_free_route_follows_the_platform_configs_marks():
    """The marks are data (`litellm_config.free_tier`, loaded by init_oauth_platforms.py): an
    operator's edit changes the route; a disabled platform drops out."""
    from app.models import PlatformConfig
    from app.services import model_routes

    def platform(pid: str, free: list[str], enabled: bool = True) -> PlatformConfig:
        config = {"available_models": free, "free_tier": free}
        return PlatformConfig(platform_id=pid, is_enabled=enabled, litellm_config=config)

    platforms = {
        "zhipu": platform("zhipu", ["glm-4.7-flash"]),
        "spark": platform("spark", ["lite"], enabled=False),
        "openai": platform("openai", []),
    }
    route = model_routes.free_route(platforms)
    assert route.strategy == "most_remaining"
    assert [t["model"] for t in route.targets] == ["zhipu/glm-4.7-flash"]


async def test_v1_models_lists_the_callers_routes(app, client, auth, platform_fakes):
    from tests.helpers.api import create_api_key

    other = await new_user(app)
    await account(client, auth, "qwen")
    mine, theirs = route_name(), route_name()
    await save_route(client, auth, mine, ["qwen/qwen-turbo"])
    await save_route(client, other, theirs, ["qwen/qwen-turbo"])
    await save_route(client, auth, "qwen-plus", ["zhipu/glm-4-flash"])  # shadows a model name
    key = (await create_api_key(client, auth))["key"]
    listed = await client.get("/v1/models", headers={"Authorization": f"Bearer {key}"})
    assert listed.status_code == 200, listed.text
    owners = {}
    for model in listed.json()["data"]:
        owners.setdefault(model["id"], []).append(model["owned_by"])
    assert owners[mine] == ["route"] and owners["free"] == ["route"]
    assert owners["qwen-plus"] == ["route"] and owners["qwen/qwen-plus"] == ["qwen"]
    assert theirs not in owners


async def test_other_surfaces_take_a_route_name(client, auth, platform_fakes):
    """Claude Code's model name on Anthropic's Messages API, and Codex's on the Responses API,
    served by routes of those names on other platforms."""
    from tests.helpers.api import create_api_key

    bound = await three_platforms(client, auth, platform_fakes)
    await save_route(client, auth, "claude-sonnet-4-5", ["qwen/qwen-turbo"])
    await save_route(client, auth, "gpt-5", ["zhipu/glm-4-flash"])
    key = (await create_api_key(client, auth))["key"]
    headers = {"Authorization": f"Bearer {key}"}
    body = {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": said()}
    messages = await client.post("/v1/messages", json=body, headers=headers)
    assert messages.status_code == 200, messages.text
    assert messages.json()["content"][0]["text"] == "Hello!"
    assert messages.headers["x-oauth-proxy-target"] == "qwen/qwen-turbo"
    assert calls_with(platform_fakes, "qwen", bound["qwen"]["key"]) == 1

    answer = await client.post(
        "/v1/responses", json={"model": "gpt-5", "input": "Say hello"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-oauth-proxy-target"] == "zhipu/glm-4-flash"
    assert calls_with(platform_fakes, "zhipu", bound["zhipu"]["key"]) == 1


async def test_every_surface_names_the_served_model_whole_and_streamed(
    client, auth, platform_fakes
):
    """Messages, Responses and Gemini's API answer from the chat chunks: each names the model
    that served a route (through litellm's `dashscope/…` here), never the route's name."""
    from tests.helpers.api import create_api_key

    await three_platforms(client, auth, platform_fakes)
    name = route_name()
    await save_route(client, auth, name, ["qwen/qwen-turbo"])
    headers = {"Authorization": f"Bearer {(await create_api_key(client, auth))['key']}"}
    contents = [{"role": "user", "parts": [{"text": said()[0]["content"]}]}]
    asked = {
        "/v1/messages": {"model": name, "max_tokens": 64, "messages": said()},
        "/v1/responses": {"model": name, "input": "Say hello"},
        f"/v1beta/models/{name}:generateContent": {"contents": contents},
    }
    named: dict[str, list[Any]] = {}
    for path, body in asked.items():
        whole = await client.post(path, json=body, headers=headers)
        assert whole.status_code == 200, whole.text
        assert whole.headers["x-oauth-proxy-target"] == "qwen/qwen-turbo"
        streamed = await client.post(
            path.replace(":generateContent", ":streamGenerateContent?alt=sse"),
            json=body | ({"stream": True} if path.startswith("/v1/") else {}),
            headers=headers,
        )
        assert streamed.status_code == 200, streamed.text
        named[path] = [whole.json(), sse_events(streamed.text)]
    messages, responses, gemini = named.values()
    assert messages[0]["model"] == "qwen-turbo"
    assert [e["message"]["model"] for e in messages[1] if e["type"] == "message_start"] == [
        "qwen-turbo"
    ]
    assert responses[0]["model"] == "qwen-turbo"
    assert {e["response"]["model"] for e in responses[1] if "response" in e} == {"qwen-turbo"}
    assert gemini[0]["modelVersion"] == "qwen-turbo"
    assert gemini[1] and {e["modelVersion"] for e in gemini[1]} == {"qwen-turbo"}


async def test_one_targets_unknown_model_moves_on(client, auth, platform_fakes):
    """A bad_request that is the target's own (OpenAI's 404 model_not_found) tries the next."""
    openai = await account(client, auth, "openai")
    qwen = await account(client, auth, "qwen")
    forget(platform_fakes)
    name = route_name()
    await save_route(client, auth, name, ["openai/gpt-4.1-mini", "qwen/qwen-turbo"])
    fake_of(platform_fakes, "openai").script(
        errors.openai_model_not_found(), credential=openai["key"]
    )
    response = await call_route(client, auth, name)
    assert response.status_code == 200, response.text
    assert response.headers["x-oauth-proxy-target"] == "qwen/qwen-turbo"
    assert calls_with(platform_fakes, "openai", openai["key"]) == 1
    assert calls_with(platform_fakes, "qwen", qwen["key"]) == 1


async def test_one_targets_unsupported_parameter_moves_on(client, auth, platform_fakes):
    """OpenAI's 400 unsupported_parameter (`reasoning_effort` to a model that does not reason)
    is that target's own refusal: the route tries the next, and nothing rests or is charged.
    Called by its own name the refusal goes back to the caller."""
    openai = await account(client, auth, "openai")
    qwen = await account(client, auth, "qwen")
    forget(platform_fakes)
    name = route_name()
    await save_route(client, auth, name, ["openai/gpt-4.1-mini", "qwen/qwen-turbo"])
    refusal = errors.openai_unsupported_parameter("reasoning_effort")
    fake_of(platform_fakes, "openai").script(refusal, credential=openai["key"])
    response = await call_route(client, auth, name, reasoning_effort="low")
    assert response.status_code == 200, response.text
    assert response.headers["x-oauth-proxy-target"] == "qwen/qwen-turbo"
    assert calls_with(platform_fakes, "openai", openai["key"]) == 1
    assert calls_with(platform_fakes, "qwen", qwen["key"]) == 1
    first = (await accounts_by_id(client, auth))[openai["id"]]
    assert (first["status"], first["quota_used"]) == ("active", 0)

    fake_of(platform_fakes, "openai").script(refusal, credential=openai["key"])
    direct = await call_route(client, auth, "openai/gpt-4.1-mini", reasoning_effort="low")
    assert direct.status_code == 400, direct.text
    assert "'reasoning_effort' is not supported with this model" in direct.json()["message"]


async def test_the_gemini_api_takes_a_route_name(client, auth, platform_fakes):
    """On Google's generateContent: a route to other platforms fails over across them and
    answers in Gemini's shape; a route whose first target is Gemini's keeps to its Gemini targets
    (the request goes as it is), moving from a model whose free quota is spent to the next."""
    from tests.helpers.api import create_api_key

    bound = await three_platforms(client, auth, platform_fakes)
    headers = {"x-goog-api-key": (await create_api_key(client, auth))["key"]}
    body = {"contents": [{"role": "user", "parts": [{"text": said()[0]["content"]}]}]}
    across = route_name()
    await save_route(client, auth, across, ["zhipu/glm-4-flash", "qwen/qwen-turbo"])
    fake_of(platform_fakes, "zhipu").script(errors.zhipu("1113"), credential=bound["zhipu"]["key"])
    answer = await client.post(
        f"/v1beta/models/{across}:generateContent", json=body, headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["candidates"][0]["content"]["parts"][0]["text"] == "Hello!"
    assert answer.headers["x-oauth-proxy-target"] == "qwen/qwen-turbo"
    assert calls_with(platform_fakes, "zhipu", bound["zhipu"]["key"]) == 1

    gemini = fake_of(platform_fakes, "gemini")
    own = route_name()
    targets = ["gemini/gemini-2.5-flash", "qwen/qwen-turbo", "gemini/gemini-2.5-flash-lite"]
    await save_route(client, auth, own, targets)
    gemini.script(errors.gemini_quota_exhausted(daily=True), credential=bound["gemini"]["key"])
    answer = await client.post(f"/v1beta/models/{own}:generateContent", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-oauth-proxy-target"] == "gemini/gemini-2.5-flash-lite"
    assert [r.path.rsplit("/", 1)[-1] for r in gemini.model_requests] == [
        "gemini-2.5-flash:generateContent",
        "gemini-2.5-flash-lite:generateContent",
    ]
    assert calls_with(platform_fakes, "qwen", bound["qwen"]["key"]) == 1  # the first route's


async def test_embeddings_take_a_route_whose_targets_embed(client, auth, platform_fakes):
    """A route over embedding models moves on across the platforms that speak the first
    target's embeddings API (OpenAI's here), passing over Gemini's (Google's own)."""
    from tests.helpers.api import create_api_key

    bound = await three_platforms(client, auth, platform_fakes)
    key = (await create_api_key(client, auth))["key"]
    name = route_name()
    targets = ["zhipu/embedding-3", "gemini/gemini-embedding-001", "qwen/text-embedding-v4"]
    assert (await save_route(client, auth, name, targets)).status_code == 200
    fake_of(platform_fakes, "zhipu").script(errors.zhipu("1113"), credential=bound["zhipu"]["key"])
    answer = await client.post(
        "/v1/embeddings",
        json={"model": name, "input": ["one", "two"], "encoding_format": "float"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert answer.status_code == 200, answer.text
    assert [len(item["embedding"]) > 0 for item in answer.json()["data"]] == [True, True]
    assert answer.headers["x-oauth-proxy-target"] == "qwen/text-embedding-v4"
    assert answer.json()["model"] == "text-embedding-v4"  # the served model
    served = [r for r in fake_of(platform_fakes, "qwen").model_requests]
    assert [r.path for r in served if r.credential == bound["qwen"]["key"]] == [
        "/compatible-mode/v1/embeddings"
    ]
    assert calls_with(platform_fakes, "gemini", bound["gemini"]["key"]) == 0
