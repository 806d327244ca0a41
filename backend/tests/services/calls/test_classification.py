"""Every vendor error of platforms.md §2, as litellm really raises it from the fake upstreams,
lands in its class with its hints; and the hint parsers on their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from app.core.llm import LLM
from app.services.calls.upstream_error import UpstreamError, from_exception, transport_errors
from app.services.oauth.adapters.errors import (
    UpstreamFailure,
    classify,
    parse_duration,
    reset_hint,
    retry_after_s,
    unreachable,
)
from tests.fakes.upstream import Drop, Error, ErrorIn200, MidStreamError, Slow, errors

# platform → (litellm model string, path on the fake, fake kind), as the adapters build them.
ROUTES = {
    "openai": ("openai/gpt-4.1-mini", "/v1", "openai"),
    "qwen": ("dashscope/qwen-plus", "/compatible-mode/v1", "openai"),
    "doubao": ("volcengine/doubao-seed-1-6-251015", "/api/v3", "openai"),
    "zhipu": ("openai/glm-4-flash", "/api/paas/v4", "openai"),
    "spark": ("openai/lite", "/v1", "openai"),
    "baidu": ("openai/ernie-speed-128k", "/v2", "openai"),
    "claude": ("anthropic/claude-sonnet-4-5", "", "anthropic"),
    "gemini": ("gemini/gemini-2.5-flash", "/v1beta", "gemini"),
}


@pytest.fixture(scope="module")
async def litellm() -> ModuleType:
    return await LLM(log_level="WARNING").module()


async def failure_of(
    litellm: ModuleType, fakes: Any, platform: str, behaviour: Any, *, stream: bool = False
) -> UpstreamError:
    model, prefix, kind = ROUTES[platform]
    getattr(fakes, kind).script(behaviour)
    with pytest.raises(Exception) as caught:  # any litellm error: it is what is classified
        response = await litellm.acompletion(
            model=model,
            api_base=fakes.urls[kind] + prefix,
            api_key="sk-test",
            messages=[{"role": "user", "content": "hi"}],
            max_retries=0,
            timeout=1.0,
            stream=stream,
            **({"stream_options": {"include_usage": True}} if stream else {}),
        )
        if stream:
            async for _ in response:
                pass
    return from_exception(caught.value)


SPEND_LIMIT = "project_spend_limit_exceeded"
QUOTA_BODY = errors.openai_insufficient_quota().body
CASES = [
    ("openai", errors.openai_insufficient_quota(), "quota_exhausted", "account", None),
    ("openai", errors.openai_insufficient_quota(SPEND_LIMIT), "quota_exhausted", "account", None),
    ("openai", errors.openai_rate_limited(retry_after=7), "rate_limited", "account", 7),
    ("openai", errors.openai_rate_limited(), "rate_limited", "account", 20),  # x-ratelimit-reset
    ("openai", errors.openai_invalid_key(), "auth_expired", "account", None),
    ("qwen", errors.dashscope_arrearage(), "quota_exhausted", "account", None),
    ("qwen", errors.dashscope_free_quota_exceeded(), "quota_exhausted", "model", None),
    ("qwen", errors.dashscope_rate_limited(), "rate_limited", "account", None),
    ("qwen", errors.dashscope_invalid_key(), "auth_expired", "account", None),
    ("doubao", errors.ark_account_overdue(), "quota_exhausted", "account", None),
    ("doubao", errors.ark_rate_limited(), "rate_limited", "account", None),
    ("doubao", errors.ark_rate_limited("QuotaExceeded"), "quota_exhausted", "model", None),
    ("doubao", errors.ark_invalid_key(), "auth_expired", "account", None),
    ("zhipu", errors.zhipu("1113"), "quota_exhausted", "account", None),
    ("zhipu", errors.zhipu("1304"), "quota_exhausted", "account", None),
    ("zhipu", errors.zhipu("1309"), "quota_exhausted", "account", None),
    ("zhipu", errors.zhipu("1302"), "rate_limited", "account", None),
    ("zhipu", errors.zhipu("1303"), "rate_limited", "account", None),
    ("zhipu", errors.zhipu("1305"), "overloaded", "account", None),
    ("zhipu", errors.zhipu("1211"), "bad_request", "account", None),
    ("zhipu", errors.zhipu("1261"), "bad_request", "account", None),
    ("zhipu", errors.zhipu("1003"), "auth_expired", "account", None),
    ("spark", errors.spark("11200"), "quota_exhausted", "account", None),
    ("spark", errors.spark("11201"), "quota_exhausted", "account", None),
    ("spark", errors.spark("11202"), "rate_limited", "account", None),
    ("spark", errors.spark("11203"), "rate_limited", "account", None),
    ("spark", errors.spark("10013"), "bad_request", "account", None),
    ("spark", errors.spark_unauthorized(), "auth_expired", "account", None),
    ("baidu", errors.qianfan("malformed_json"), "bad_request", "account", None),
    ("baidu", errors.qianfan_invalid_key(), "auth_expired", "account", None),
    ("claude", errors.anthropic_overloaded(), "overloaded", "account", None),
    ("claude", errors.anthropic_billing_error(), "quota_exhausted", "account", None),
    ("claude", errors.anthropic_credit_balance_too_low(), "quota_exhausted", "account", None),
    ("claude", errors.anthropic_rate_limited(retry_after=7), "rate_limited", "account", 7),
    ("claude", errors.anthropic(400), "bad_request", "account", None),
    ("claude", errors.anthropic(401), "auth_expired", "account", None),
    ("claude", errors.anthropic(404), "bad_request", "account", None),
    ("gemini", errors.gemini_quota_exhausted(daily=True), "quota_exhausted", "model", None),
    ("gemini", errors.gemini_quota_exhausted(daily=False), "rate_limited", "account", 37),
    ("gemini", errors.gemini_api_key_invalid(), "auth_expired", "account", None),
    ("gemini", errors.gemini_unauthenticated(), "auth_expired", "account", None),
    ("gemini", errors.gemini_overloaded(), "overloaded", "account", None),
    ("gemini", errors.gemini_location_unsupported(), "bad_request", "account", None),
    ("openai", Error(503, {"error": {"message": "try later"}}), "overloaded", "account", None),
    ("openai", Error(502, {"error": {"message": "bad gateway"}}), "network", "account", None),
    ("openai", Error(504, {"error": {"message": "gateway timeout"}}), "network", "account", None),
    ("openai", Drop(), "network", "account", None),
    ("openai", Slow(3.0), "network", "account", None),
    ("zhipu", ErrorIn200(errors.zhipu("1113").body), "quota_exhausted", "account", None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("platform", "behaviour", "kind", "scope", "retry_after"),
    CASES,
    ids=[f"{c[0]}-{i}-{c[2]}" for i, c in enumerate(CASES)],
)  # fmt: skip
async def test_vendor_errors_land_in_their_class(
    litellm, platform_fakes, platform, behaviour, kind, scope, retry_after
):
    failure = classify(await failure_of(litellm, platform_fakes, platform, behaviour))
    assert (failure.kind, failure.scope) == (kind, scope)
    if retry_after is None:
        assert failure.retry_after_s is None or kind not in ("rate_limited",)
    else:
        assert failure.retry_after_s == pytest.approx(retry_after)
    assert "sk-test" not in failure.message


@pytest.mark.parametrize(
    ("platform", "behaviour", "kind", "mid_stream"),
    [
        ("gemini", errors.gemini_quota_exhausted(False, retry_delay="9s"), "rate_limited", False),
        ("gemini", errors.gemini_overloaded(), "overloaded", False),
        ("claude", errors.anthropic_overloaded(), "overloaded", False),
        ("openai", MidStreamError(2, QUOTA_BODY), "quota_exhausted", True),
        ("openai", MidStreamError(2, errors.openai_rate_limited().body), "rate_limited", True),
        ("openai", Drop(after_chunks=2), "network", True),
        ("claude", MidStreamError(2, errors.anthropic_overloaded().body), "overloaded", True),
    ],
)  # fmt: skip
async def test_streamed_errors_keep_their_class_and_say_when_they_came(
    litellm, platform_fakes, platform, behaviour, kind, mid_stream
):
    error = await failure_of(litellm, platform_fakes, platform, behaviour, stream=True)
    assert classify(error).kind == kind
    assert error.mid_stream is mid_stream


def test_a_platforms_error_codes_correct_the_table():
    error = UpstreamError(status=400, code="17", message="Open api daily request limit reached")
    assert classify(error).kind == "quota_exhausted"
    assert classify(error, {"17": "rate_limited"}).kind == "rate_limited"
    assert classify(UpstreamError(status=400, code="X9"), {"X9": "overloaded"}).kind == "overloaded"
    assert classify(UpstreamError(status=400, code="X9"), {"X9": "nonsense"}).kind == "bad_request"


def test_retry_hints_are_read_from_every_place_platforms_put_them():
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

    def hint(**fields: Any) -> float | None:
        return retry_after_s(UpstreamError(status=429, **fields), now)

    assert hint(headers={"retry-after-ms": "1500"}) == 1.5
    assert hint(headers={"retry-after": "Sat, 28 Nov 2026 12:00:30 GMT"}) == 30
    assert (
        hint(
            headers={
                "anthropic-ratelimit-tokens-remaining": "0",
                "anthropic-ratelimit-tokens-reset": "2026-11-28T12:01:00Z",
            }
        )
        == 60
    )
    assert (
        hint(headers={"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "6m0s"})
        == 360
    )
    assert hint(message="Please try again in 20ms.") == pytest.approx(0.02)
    assert hint(message="Rate limited, retry after 2 minutes") == 120
    assert hint(message="no hint here") is None
    assert hint(headers={"retry-after": "0"}) is None  # nothing useful: back off instead


def test_durations_and_reset_times_parse():
    assert parse_duration("37s") == 37
    assert parse_duration("1.5s") == 1.5
    assert parse_duration("1h2m3s") == 3723
    assert parse_duration("120") == 120
    assert parse_duration("soon") is None
    reset = reset_hint("您的限额将在 2026-12-01 00:00:00 重置。")
    assert reset == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert reset_hint("no date") is None
    assert datetime(2026, 12, 1, tzinfo=UTC) - reset == timedelta(hours=8)  # Beijing time


def test_a_failed_connection_is_known_by_its_class_not_by_its_name(litellm):
    """litellm's connection failures by litellm's own classes; an exception merely named like
    one is not taken for it; the lean path's own failure carries what it is."""
    known = transport_errors(litellm)
    refused = litellm.APIConnectionError(message="refused", llm_provider="openai", model="m")
    slow = litellm.Timeout(message="slow", llm_provider="openai", model="m")
    assert from_exception(refused, known).transport
    assert from_exception(slow, known).transport

    class APIConnectionError(Exception):
        pass

    assert not from_exception(APIConnectionError("refused"), known).transport
    lean = unreachable("Connection error.")
    assert isinstance(lean, UpstreamFailure)
    assert from_exception(lean, known) is lean.error
    assert (lean.error.transport, lean.error.status, classify(lean.error).kind) == (
        True,
        None,
        "network",
    )
