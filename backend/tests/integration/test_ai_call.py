"""The call path end to end: both endpoints, all eight platforms' fakes, the official openai SDK
against a real uvicorn server, and every error class with what it does to the accounts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import openai
import pytest

from app.api.deps import app_context
from tests.fakes.upstream import Drop, Error, MidStreamError, Reply, Slow, errors
from tests.helpers.api import account, accounts_by_id, bind, create_api_key
from tests.helpers.calls import fake_of, said, seed_call, sse_events, streamed_text

PLATFORMS = ["qwen", "openai", "claude", "baidu", "zhipu", "spark", "gemini", "doubao"]
DEFAULT_MODELS = {
    "qwen": "qwen-turbo",
    "openai": "gpt-4.1-mini",
    "claude": "claude-sonnet-4-5",
    "baidu": "ernie-speed-128k",
    "zhipu": "glm-4-flash",
    "spark": "lite",
    "gemini": "gemini-2.5-flash",
    "doubao": "doubao-seed-1-6-251015",
}


@pytest.fixture(scope="module", params=["lean", "litellm"], autouse=True)
def call_way(request: pytest.FixtureRequest, app: Any) -> Iterator[str]:
    """Every scenario twice: on the lean path, and through litellm, the reference: each answer,
    usage figure, error and account action holds both ways (test_lean_path.py compares the two
    side by side). Platforms litellm translates for take litellm both times."""
    settings = app_context(app).call_path.settings
    settings.call_lean_path = request.param == "lean"
    yield request.param
    settings.call_lean_path = True


# --- every platform, both endpoints, the official SDK --------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_the_openai_sdk_gets_answers_from_every_platform(
    client, auth, platform_fakes, service_url, platform
):
    bound = await account(client, auth, platform)
    key = (await create_api_key(client, auth))["key"]
    model = f"{platform}/{DEFAULT_MODELS[platform]}"

    def ask_whole_and_streamed() -> tuple[Any, list[Any]]:
        # The blocking client, as most callers run it, off the test's event loop: the service
        # shares the test's SQLite file, and a blocked loop could stall a write it has under way.
        with httpx.Client(timeout=30) as http:
            sdk = openai.OpenAI(base_url=service_url + "/v1", api_key=key, http_client=http)
            answer = sdk.chat.completions.create(model=model, messages=said())
            stream = sdk.chat.completions.create(
                model=model, messages=said(), stream=True, stream_options={"include_usage": True}
            )
            return answer, list(stream)

    answer, chunks = await asyncio.to_thread(ask_whole_and_streamed)
    assert answer.choices[0].message.content == "Hello!"
    assert answer.usage is not None and answer.usage.completion_tokens == 1
    assert answer.usage.prompt_tokens == 3  # the fake counts words: "Say hello <tag>"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello!"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 4
    fake = fake_of(platform_fakes, platform)
    assert {r.credential for r in fake.model_requests} >= {bound["key"]}
    mine = await accounts_by_id(client, auth)
    assert mine[bound["id"]]["quota_used"] == 8  # two calls of 3 + 1 tokens
    assert mine[bound["id"]]["last_used_at"] is not None


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_the_seed_route_answers_in_the_envelope_and_streams_chunks(
    client, auth, platform_fakes, platform
):
    await account(client, auth, platform)
    response = await seed_call(client, auth, platform)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == 200 and body["message"] == "success"
    completion = body["data"]
    assert completion["object"] == "chat.completion"
    assert completion["choices"][0]["message"] == {"role": "assistant", "content": "Hello!"}
    assert completion["choices"][0]["finish_reason"] == "stop"
    assert completion["usage"] == {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}

    streamed = await seed_call(client, auth, platform, stream=True)
    assert streamed.status_code == 200
    assert streamed.headers["content-type"].startswith("text/event-stream")
    events = sse_events(streamed.text)
    assert events[-1] == "[DONE]"
    assert all(e["object"] == "chat.completion.chunk" for e in events[:-1])
    assert streamed_text(events) == "Hello!"
    assert any(c["finish_reason"] == "stop" for e in events[:-1] for c in e["choices"])
    assert not any("usage" in e for e in events[:-1])  # not asked for


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_the_answer_names_the_served_model_as_the_target_header_does(
    client, auth, platform_fakes, platform
):
    await account(client, auth, platform)
    served = DEFAULT_MODELS[platform]  # what the fakes answer for: never litellm's `dashscope/…`
    asked = {"model": f"{platform}/{served}", "messages": said()}
    whole = await client.post("/v1/chat/completions", json=asked, headers=auth)
    assert whole.status_code == 200, whole.text
    assert whole.headers["x-oauth-proxy-target"] == f"{platform}/{served}"
    assert whole.json()["model"] == served

    asked |= {"stream": True, "stream_options": {"include_usage": True}}
    streamed = await client.post("/v1/chat/completions", json=asked, headers=auth)
    chunks = sse_events(streamed.text)[:-1]
    assert chunks and {chunk["model"] for chunk in chunks} == {served}


async def test_the_platforms_own_name_for_the_served_model_is_kept(
    client, auth, platform_fakes, call_way
):
    """OpenAI answers `gpt-4.1-mini` as its dated snapshot: a whole answer says so both ways, a
    stream on the lean path too (litellm's stream keeps only the name asked: its chunks say it)."""
    bound = await account(client, auth, "openai")
    dated = {"model": "gpt-4.1-mini-2025-04-14"}
    fake = fake_of(platform_fakes, "openai")
    fake.script(Reply(extras=dated), Reply(extras=dated), credential=bound["key"])
    asked = {"model": "openai/gpt-4.1-mini", "messages": said()}
    whole = await client.post("/v1/chat/completions", json=asked, headers=auth)
    assert whole.json()["model"] == "gpt-4.1-mini-2025-04-14"
    assert whole.headers["x-oauth-proxy-target"] == "openai/gpt-4.1-mini"
    streamed = await client.post(
        "/v1/chat/completions", json=asked | {"stream": True}, headers=auth
    )
    chunks = sse_events(streamed.text)[:-1]
    named = "gpt-4.1-mini-2025-04-14" if call_way == "lean" else "gpt-4.1-mini"
    assert chunks and {chunk["model"] for chunk in chunks} == {named}


# --- error classes and what they do to the accounts -----------------------------------------------


def parse_time(text: str | None) -> datetime:
    assert text is not None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def next_midnight(zone: str) -> datetime:
    from zoneinfo import ZoneInfo

    local = datetime.now(ZoneInfo(zone))
    return (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


async def two_accounts(
    client: httpx.AsyncClient, auth: dict[str, str], fakes: Any, platform: str
) -> tuple[dict, dict, Any]:
    """Two accounts on `platform`, and its fake with the binding's own key checks forgotten."""
    first, second = await account(client, auth, platform), await account(client, auth, platform)
    fake = fake_of(fakes, platform)
    fake.requests.clear()
    return first, second, fake


def credentials_seen(fake: Any, *keys: str) -> list[str]:
    """Which of `keys` the fake was called with, in order (other tests' calls filtered out)."""
    return [r.credential for r in fake.model_requests if r.credential in keys]


def in_shanghai_hours(hours: int) -> str:
    from zoneinfo import ZoneInfo

    when = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(hours=hours)
    return when.strftime("%Y-%m-%d %H:%M:%S")


RESET = in_shanghai_hours(3)
ZHIPU_WINDOW = f"已达到 5 小时 的使用上限。您的限额将在 {RESET} 重置。"
QUOTA_ERRORS = [
    pytest.param("openai", errors.openai_insufficient_quota(), "account", id="openai-insufficient"),
    pytest.param("openai", errors.openai_insufficient_quota("credit_balance_exhausted"), "account",
                 id="openai-credit"),
    pytest.param("qwen", errors.dashscope_arrearage(), "account", id="dashscope-arrearage-400"),
    pytest.param("qwen", errors.dashscope_free_quota_exceeded(), "model", id="dashscope-free"),
    pytest.param("zhipu", errors.zhipu("1113"), "account", id="zhipu-1113-arrears"),
    pytest.param("zhipu", errors.zhipu("1304"), "account", id="zhipu-1304-daily"),
    pytest.param("zhipu", errors.zhipu("1308", ZHIPU_WINDOW),
                 "account", id="zhipu-1308-reset-hint"),
    pytest.param("doubao", errors.ark_account_overdue(), "account", id="ark-overdue-403"),
    pytest.param("claude", errors.anthropic_billing_error(), "account", id="anthropic-402"),
    pytest.param("claude", errors.anthropic_credit_balance_too_low(), "account",
                 id="anthropic-400-balance"),
    pytest.param("gemini", errors.gemini_quota_exhausted(daily=True), "model", id="gemini-daily"),
    pytest.param("spark", errors.spark("11200"), "account", id="spark-11200"),
    pytest.param("spark", errors.spark("11201"), "account", id="spark-11201"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "error", "scope"), QUOTA_ERRORS)
async def test_out_of_quota_fails_over_and_marks_the_account_exhausted_until_its_reset(
    client, auth, platform_fakes, platform, error, scope
):
    first, second, fake = await two_accounts(client, auth, platform_fakes, platform)
    fake.script(error, credential=first["key"])
    response = await seed_call(client, auth, platform)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["choices"][0]["message"]["content"] == "Hello!"
    assert credentials_seen(fake, first["key"], second["key"]) == [first["key"], second["key"]]

    mine = await accounts_by_id(client, auth)
    exhausted, served = mine[first["id"]], mine[second["id"]]
    assert exhausted["quota_used"] == 0  # the failed attempt charged nothing
    assert served["quota_used"] == 4 and served["status"] == "active"
    reset = parse_time(exhausted["reset_at"])
    if "1308" in str(error.body):
        expected = datetime.strptime(RESET, "%Y-%m-%d %H:%M:%S").replace(
            tzinfo=next_midnight("Asia/Shanghai").tzinfo
        )
    else:
        zone = "America/Los_Angeles" if platform == "gemini" else "Asia/Shanghai"
        expected = next_midnight(zone)
    assert reset == expected
    if scope == "account":
        assert exhausted["status"] == "exhausted"
        assert "out of quota" in exhausted["status_reason"]
    else:  # only this model's quota is gone: the account rests from it
        assert exhausted["status"] == "cooling"
        assert exhausted["cooldowns"][0]["reason"] == "quota_exhausted"
        assert exhausted["cooldowns"][0]["model"] == DEFAULT_MODELS[platform]

    # It stays out of the rotation: the next call goes straight to the other account.
    assert (await seed_call(client, auth, platform)).status_code == 200
    assert credentials_seen(fake, first["key"], second["key"])[2:] == [second["key"]]


RATE_LIMITS = [
    pytest.param("openai", errors.openai_rate_limited(retry_after=7), 7, id="openai-retry-after"),
    pytest.param("claude", errors.anthropic_rate_limited(retry_after=30), 30, id="anthropic"),
    pytest.param("gemini", errors.gemini_quota_exhausted(daily=False, retry_delay="37s"), 37,
                 id="gemini-retry-delay"),
    pytest.param("qwen", errors.dashscope_rate_limited(), 1, id="dashscope-backoff"),
    pytest.param("zhipu", errors.zhipu("1302"), 1, id="zhipu-1302"),
    pytest.param("spark", errors.spark("11202"), 1, id="spark-11202"),
    pytest.param("doubao", errors.ark_rate_limited(), 1, id="ark-rpm"),
]  # fmt: skip


@pytest.mark.parametrize(("platform", "error", "wait_s"), RATE_LIMITS)
async def test_a_rate_limit_cools_the_account_until_the_platforms_hint(
    client, auth, platform_fakes, platform, error, wait_s
):
    first, second, fake = await two_accounts(client, auth, platform_fakes, platform)
    fake.script(error, credential=first["key"])
    before = datetime.now(UTC)
    response = await seed_call(client, auth, platform)
    assert response.status_code == 200, response.text
    assert credentials_seen(fake, first["key"], second["key"]) == [first["key"], second["key"]]
    cooling = (await accounts_by_id(client, auth))[first["id"]]
    assert cooling["status"] == "cooling" and cooling["quota_used"] == 0
    [rest] = cooling["cooldowns"]
    assert rest["reason"] == "rate_limited" and rest["model"] == DEFAULT_MODELS[platform]
    waited = (parse_time(rest["until"]) - before).total_seconds()
    assert wait_s - 1 <= waited <= wait_s + 5


@pytest.mark.parametrize(
    ("platform", "error"),
    [
        pytest.param("claude", errors.anthropic_overloaded(), id="anthropic-529"),
        pytest.param("gemini", errors.gemini_overloaded(), id="gemini-503"),
        pytest.param("zhipu", errors.zhipu("1305"), id="zhipu-1305"),
        pytest.param("openai", Error(503, {"error": {"message": "busy"}}), id="http-503"),
    ],
)
async def test_an_overloaded_platform_gets_a_short_rest_and_fails_over(
    client, auth, platform_fakes, platform, error
):
    first, second, fake = await two_accounts(client, auth, platform_fakes, platform)
    fake.script(error, credential=first["key"])
    assert (await seed_call(client, auth, platform)).status_code == 200
    assert credentials_seen(fake, first["key"], second["key"]) == [first["key"], second["key"]]
    resting = (await accounts_by_id(client, auth))[first["id"]]
    assert resting["status"] == "cooling"
    assert resting["cooldowns"][0]["reason"] == "overloaded"
    assert parse_time(resting["reset_at"]) - datetime.now(UTC) <= timedelta(seconds=10)


@pytest.mark.parametrize(
    "behaviour",
    [
        pytest.param(Drop(), id="dropped"),
        pytest.param(Drop(reset=True), id="reset"),
        pytest.param(Error(502, {"error": {"message": "bad gateway"}}), id="502"),
        pytest.param(Error(500, {"error": {"message": "oops"}}), id="500"),
        pytest.param(Slow(5.0), id="timeout"),
    ],
)
async def test_a_network_failure_retries_on_another_account_and_changes_nothing(
    client, auth, app, platform_fakes, monkeypatch, behaviour
):
    monkeypatch.setattr(app_context(app).settings, "call_timeout", 1.0)
    first, second = await account(client, auth, "openai"), await account(client, auth, "openai")
    platform_fakes.openai.script(behaviour, credential=first["key"])
    response = await seed_call(client, auth, "openai")
    assert response.status_code == 200, response.text
    seen = credentials_seen(platform_fakes.openai, first["key"], second["key"])
    assert seen == [first["key"], second["key"]]
    untouched = (await accounts_by_id(client, auth))[first["id"]]
    assert untouched["status"] == "active" and untouched["cooldowns"] == []


@pytest.mark.parametrize(
    ("platform", "error", "status"),
    [
        pytest.param("zhipu", errors.zhipu("1211"), 400, id="zhipu-unknown-model"),
        pytest.param("spark", errors.spark("10907"), 400, id="spark-too-long"),
        pytest.param("qwen", errors.dashscope(404, "ModelNotFound", "Model not exist."), 404,
                     id="dashscope-404"),
        pytest.param("claude", errors.anthropic(400), 400, id="anthropic-invalid"),
        pytest.param("gemini", errors.gemini_location_unsupported(), 400, id="gemini-location"),
        pytest.param("openai", errors.anthropic(413), 413, id="too-large"),
    ],
)  # fmt: skip
async def test_a_bad_request_goes_back_to_the_caller_without_failover_or_charge(
    client, auth, platform_fakes, platform, error, status
):
    first, second, fake = await two_accounts(client, auth, platform_fakes, platform)
    fake.script(error, credential=first["key"])
    response = await seed_call(client, auth, platform)
    assert response.status_code == status
    body = response.json()
    assert body["code"] == status and body["data"] is None
    upstream = error.body["error"]["message"]
    assert upstream.split("(sid")[0].strip()[:20] in body["message"]
    assert credentials_seen(fake, first["key"], second["key"]) == [first["key"]]
    mine = await accounts_by_id(client, auth)
    assert mine[first["id"]]["status"] == "active" and mine[first["id"]]["quota_used"] == 0
    assert mine[second["id"]]["quota_used"] == 0


async def test_a_rejected_key_marks_the_account_expired_and_fails_over(
    client, auth, platform_fakes
):
    first, second = await account(client, auth, "doubao"), await account(client, auth, "doubao")
    platform_fakes.openai.script(errors.ark_invalid_key(), credential=first["key"])
    assert (await seed_call(client, auth, "doubao")).status_code == 200
    seen = credentials_seen(platform_fakes.openai, first["key"], second["key"])
    assert seen == [first["key"], second["key"]]
    expired = (await accounts_by_id(client, auth))[first["id"]]
    assert expired["status"] == "expired" and expired["is_expired"] is True
    assert "refused the credential" in expired["status_reason"]


async def test_an_expired_token_is_renewed_once_and_the_same_account_answers(
    client, auth, platform_fakes
):
    bound = await bind(
        client, auth, platform="zhipu", account_name="jwt",
        credentials={"api_key": f"{uuid.uuid4().hex[:12]}.secret", "auth_mode": "jwt"},
    )  # fmt: skip
    platform_fakes.openai.script(errors.zhipu("1003"))  # the next call's token "has expired"
    response = await seed_call(client, auth, "zhipu")
    assert response.status_code == 200, response.text
    first_token, second_token = [r.credential for r in platform_fakes.openai.model_requests][-2:]
    assert first_token != second_token  # a freshly minted JWT
    renewed = (await accounts_by_id(client, auth))[bound["id"]]
    assert renewed["status"] == "active" and renewed["quota_used"] == 4
    assert parse_time(renewed["expires_at"]) > parse_time(bound["expires_at"])


# --- when nothing is left ------------------------------------------------------------------------


async def test_every_account_out_of_quota_answers_429_with_retry_after(
    client, auth, platform_fakes
):
    first, second, fake = await two_accounts(client, auth, platform_fakes, "qwen")
    for bound in (first, second):
        fake.script(errors.dashscope_arrearage(), credential=bound["key"])
    response = await seed_call(client, auth, "qwen")
    assert response.status_code == 429
    message = response.json()["message"]
    assert response.json()["error_code"] == "quota_exhausted"
    assert "通义千问" in message and "out of quota" in message
    assert "good standing" in message  # the platform's own words
    retry_after = int(response.headers["Retry-After"])
    until_midnight = (next_midnight("Asia/Shanghai") - datetime.now(UTC)).total_seconds()
    assert abs(retry_after - until_midnight) < 10
    # Nothing is tried while every account waits.
    again = await client.post(
        "/v1/chat/completions", json={"model": "qwen", "messages": said()}, headers=auth
    )
    assert again.status_code == 429 and "Retry-After" in again.headers
    assert again.json()["error"]["code"] == "quota_exhausted"
    assert again.json()["error"]["type"] == "rate_limit_error"
    assert len(credentials_seen(fake, first["key"], second["key"])) == 2


async def test_rate_limited_everywhere_answers_429_until_the_first_account_is_back(
    client, auth, platform_fakes
):
    first, second, fake = await two_accounts(client, auth, platform_fakes, "openai")
    fake.script(errors.openai_rate_limited(retry_after=7), credential=first["key"])
    fake.script(errors.openai_rate_limited(retry_after=20), credential=second["key"])
    response = await seed_call(client, auth, "openai")
    assert response.status_code == 429
    assert 6 <= int(response.headers["Retry-After"]) <= 8
    assert "rate-limited" in response.json()["message"]
    assert response.json()["error_code"] == "accounts_resting"


async def test_at_most_three_attempts_then_503_naming_the_platform(client, auth, platform_fakes):
    bound = [await account(client, auth, "baidu") for _ in range(4)]
    platform_fakes.openai.requests.clear()
    for one in bound:
        platform_fakes.openai.script(Drop(), credential=one["key"])
    response = await seed_call(client, auth, "baidu")
    assert response.status_code == 503
    assert response.json()["error_code"] == "platform_unavailable"
    assert "文心一言" in response.json()["message"]
    assert "could not be reached" in response.json()["message"]
    tried = credentials_seen(platform_fakes.openai, *(b["key"] for b in bound))
    assert len(tried) == 3 and len(set(tried)) == 3  # each attempt on another account


async def test_one_account_is_retried_on_network_failures(client, auth, platform_fakes):
    only = await account(client, auth, "spark")
    platform_fakes.openai.requests.clear()
    platform_fakes.openai.script(Drop(), Drop(), credential=only["key"])
    response = await seed_call(client, auth, "spark")
    assert response.status_code == 200
    assert credentials_seen(platform_fakes.openai, only["key"]) == [only["key"]] * 3


async def test_without_an_account_the_caller_is_told_to_bind_one(client, auth):
    response = await seed_call(client, auth, "gemini")
    assert response.status_code == 400
    assert "no Google Gemini account" in response.json()["message"]


async def test_a_call_without_a_credential_never_leaves(client, auth, app, platform_fakes):
    from sqlalchemy import update

    from app.core.database import session_scope
    from app.models import OAuthAccount

    bound = await account(client, auth, "openai")
    async with session_scope(app_context(app).factory) as session:
        await session.execute(
            update(OAuthAccount).where(OAuthAccount.id == bound["id"]).values(access_token=None)
        )
    platform_fakes.openai.requests.clear()
    response = await seed_call(client, auth, "openai")
    assert response.status_code == 400
    assert platform_fakes.openai.model_requests == []
    assert (await accounts_by_id(client, auth))[bound["id"]]["status"] == "expired"


# --- streams -----------------------------------------------------------------------------------

QUOTA_BODY = errors.openai_insufficient_quota().body
OVERLOADED_BODY = errors.anthropic_overloaded().body


async def test_a_stream_failing_before_its_first_byte_fails_over(client, auth, platform_fakes):
    first, second, fake = await two_accounts(client, auth, platform_fakes, "openai")
    quota = errors.openai_insufficient_quota()
    fake.script(quota.mid_stream(0), credential=first["key"])  # a 200 whose first event fails
    response = await seed_call(client, auth, "openai", stream=True)
    assert response.status_code == 200
    events = sse_events(response.text)
    assert streamed_text(events) == "Hello!" and events[-1] == "[DONE]"
    assert not any("error" in e for e in events if isinstance(e, dict))
    assert credentials_seen(fake, first["key"], second["key"]) == [first["key"], second["key"]]
    assert (await accounts_by_id(client, auth))[first["id"]]["status"] == "exhausted"


async def test_a_stream_refused_before_it_starts_fails_over(client, auth, platform_fakes):
    first, second, fake = await two_accounts(client, auth, platform_fakes, "gemini")
    fake.script(
        errors.gemini_quota_exhausted(daily=False, retry_delay="9s"), credential=first["key"]
    )
    response = await seed_call(client, auth, "gemini", stream=True)
    assert streamed_text(sse_events(response.text)) == "Hello!"
    assert credentials_seen(fake, first["key"], second["key"]) == [first["key"], second["key"]]


@pytest.mark.parametrize(
    ("platform", "behaviour", "kind"),
    [
        pytest.param("openai", MidStreamError(2, QUOTA_BODY, "Partial"), "quota_exhausted",
                     id="openai-quota"),
        pytest.param("claude", MidStreamError(2, OVERLOADED_BODY, "Partial"), "overloaded",
                     id="anthropic-overloaded"),
        pytest.param("qwen", Drop(after_chunks=2, text="Partial"), "network", id="dropped"),
    ],
)  # fmt: skip
async def test_a_stream_failing_after_its_first_byte_ends_with_an_error_event(
    client, auth, platform_fakes, platform, behaviour, kind
):
    first, second, fake = await two_accounts(client, auth, platform_fakes, platform)
    fake.script(behaviour, credential=first["key"])
    response = await seed_call(client, auth, platform, stream=True)
    assert response.status_code == 200
    events = sse_events(response.text)
    assert streamed_text(events).startswith("Pa")  # what was delivered stays delivered
    error = events[-2]["error"]
    assert error["code"] == kind and error["type"] == "server_error"
    assert error["message"].startswith(fake_name(platform))
    assert events[-1] == "[DONE]"
    assert credentials_seen(fake, first["key"], second["key"]) == [first["key"]]  # no failover
    mine = await accounts_by_id(client, auth)
    assert mine[first["id"]]["quota_used"] > 0  # the delivered part was used
    expected = {"quota_exhausted": "exhausted", "overloaded": "cooling"}.get(kind, "active")
    assert mine[first["id"]]["status"] == expected


def fake_name(platform: str) -> str:
    return {"openai": "OpenAI", "claude": "Claude", "qwen": "通义千问"}[platform]


# --- the "done when", through the official SDK ----------------------------------------


async def test_the_sdk_is_served_by_the_second_account_when_the_first_is_out_of_quota(
    client, auth, platform_fakes, service_url
):
    first, second, fake = await two_accounts(client, auth, platform_fakes, "qwen")
    fake.script(errors.dashscope_arrearage(), credential=first["key"])
    fake.script(errors.dashscope_arrearage(), credential=first["key"])
    key = (await create_api_key(client, auth))["key"]
    async with httpx.AsyncClient(timeout=30) as http:
        sdk = openai.AsyncOpenAI(base_url=service_url + "/v1", api_key=key, http_client=http)
        answer = await sdk.chat.completions.create(model="qwen-turbo", messages=said())
    assert answer.choices[0].message.content == "Hello!"
    assert credentials_seen(fake, first["key"], second["key"]) == [first["key"], second["key"]]
    mine = await accounts_by_id(client, auth)
    assert mine[first["id"]]["status"] == "exhausted"
    assert parse_time(mine[first["id"]]["reset_at"]) == next_midnight("Asia/Shanghai")
    assert mine[first["id"]]["quota_used"] == 0
    assert mine[second["id"]]["quota_used"] == answer.usage.total_tokens


async def test_the_async_sdk_streams_and_sees_errors_in_openais_shape(
    client, auth, platform_fakes, service_url
):
    bound = await account(client, auth, "doubao")
    key = (await create_api_key(client, auth))["key"]
    async with httpx.AsyncClient(timeout=30) as http:
        sdk = openai.AsyncOpenAI(
            base_url=service_url + "/v1", api_key=key, http_client=http, max_retries=0
        )
        stream = await sdk.chat.completions.create(model="doubao", messages=said(), stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        assert text == "Hello!"
        platform_fakes.openai.script(
            MidStreamError(2, errors.openai_insufficient_quota().body), credential=bound["key"]
        )
        stream = await sdk.chat.completions.create(model="doubao", messages=said(), stream=True)
        with pytest.raises(openai.APIError, match="out of quota during the answer"):
            async for _ in stream:
                pass
        with pytest.raises(openai.RateLimitError) as refused:  # now exhausted: nothing left
            await sdk.chat.completions.create(model="doubao", messages=said())
        assert refused.value.code == "quota_exhausted"
        platform_fakes.openai.script(errors.zhipu("1211"))
        with pytest.raises(openai.NotFoundError):
            await sdk.chat.completions.create(model="no-such-model", messages=said())
        with pytest.raises(openai.AuthenticationError):
            await openai.AsyncOpenAI(
                base_url=service_url + "/v1", api_key="op-wrong", http_client=http
            ).models.list()


async def test_identical_requests_are_answered_once_from_the_cache(client, auth, platform_fakes):
    bound = await account(client, auth, "openai")
    platform_fakes.openai.requests.clear()
    messages = said("Cache me")
    first = await seed_call(client, auth, "openai", messages=messages, temperature=0)
    second = await seed_call(client, auth, "openai", messages=messages, temperature=0)
    assert first.json()["data"]["choices"] == second.json()["data"]["choices"]
    assert credentials_seen(platform_fakes.openai, bound["key"]) == [bound["key"]]
    assert (await accounts_by_id(client, auth))[bound["id"]]["quota_used"] == 4  # charged once


async def test_the_seeds_quota_used_column_is_todays_usage(app, client, auth, platform_fakes):
    from app.models import OAuthAccount

    bound = await account(client, auth, "zhipu")
    for _ in range(2):
        assert (await seed_call(client, auth, "zhipu")).status_code == 200
    stream = await seed_call(client, auth, "zhipu", stream=True)
    assert stream.status_code == 200
    shown = (await accounts_by_id(client, auth))[bound["id"]]["quota_used"]
    async with app_context(app).factory() as session:
        stored = (await session.get(OAuthAccount, bound["id"])).quota_used
    assert shown > 0 and stored == shown


async def test_a_platform_without_stream_usage_is_counted_locally(
    client, auth, app, platform_fakes
):
    from sqlalchemy import update

    from app.core.database import session_scope
    from app.models import PlatformConfig

    async with session_scope(app_context(app).factory) as session:
        shipped = await session.get(PlatformConfig, await spark_id(session))
        config = dict(shipped.litellm_config) | {"stream_usage": False}
        await session.execute(
            update(PlatformConfig)
            .where(PlatformConfig.id == shipped.id)
            .values(litellm_config=config)
        )
    try:
        bound = await account(client, auth, "spark")
        body = {"stream": True, "stream_options": {"include_usage": True}}
        response = await seed_call(client, auth, "spark", **body)
        events = sse_events(response.text)
        assert "stream_options" not in platform_fakes.openai.model_requests[-1].json
        usage = events[-2]["usage"]
        assert events[-2]["choices"] == [] and usage["completion_tokens"] >= 1
        used = (await accounts_by_id(client, auth))[bound["id"]]["quota_used"]
        assert used == usage["total_tokens"]
    finally:
        async with session_scope(app_context(app).factory) as session:
            config.pop("stream_usage")
            await session.execute(
                update(PlatformConfig)
                .where(PlatformConfig.id == shipped.id)
                .values(litellm_config=config)
            )


async def spark_id(session: Any) -> int:
    from sqlalchemy import select

    from app.models import PlatformConfig

    found = await session.scalar(
        select(PlatformConfig.id).where(PlatformConfig.platform_id == "spark")
    )
    assert found is not None
    return int(found)


async def test_usage_by_day_shows_answers_and_failed_attempts(client, auth, platform_fakes):
    first, second, fake = await two_accounts(client, auth, platform_fakes, "openai")
    fake.script(errors.openai_rate_limited(retry_after=7), credential=first["key"])
    assert (await seed_call(client, auth, "openai")).status_code == 200
    response = await client.get("/api/v1/oauth/usage?days=7", headers=auth)
    assert response.status_code == 200
    rows = {r["account_id"]: r for r in response.json()["data"]}
    assert rows[first["id"]]["failures"] == 1 and rows[first["id"]]["total_tokens"] == 0
    served = rows[second["id"]]
    assert (served["requests"], served["total_tokens"], served["model"]) == (1, 4, "gpt-4.1-mini")
    assert served["platform_name"] == "OpenAI" and served["account_name"] == second["account_name"]
