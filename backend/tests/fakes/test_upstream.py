"""The fake upstreams are faithful enough for litellm 1.110.2.

Each fake is driven through `litellm.acompletion` exactly as the service drives the real vendor
(model string and api_base as in platforms.md §4), so a fake that drifts from the wire format
fails here rather than silently in the service's tests. The exception classes asserted below are
litellm's, measured against these bodies: if a litellm upgrade changes them, these tests say so.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.fakes.server import serve
from tests.fakes.upstream import (
    Drop,
    Error,
    ErrorIn200,
    FakeUpstream,
    Kind,
    MidStreamError,
    Reply,
    Slow,
    errors,
)

# Before litellm is imported (lazily, in the fixture): no network at import or first call.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
os.environ["LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS"] = "True"

pytestmark = [
    # litellm's own import-time noise, not ours.
    pytest.mark.filterwarnings("ignore:.*ReadOnly.*:UserWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:litellm"),
]

MESSAGES = [
    {"role": "system", "content": "Be brief"},
    {"role": "user", "content": "Say hello to the test"},
]
PROMPT_WORDS = 7  # the fake's prompt_tokens for MESSAGES: words of system + user text


KINDS: tuple[Kind, ...] = ("openai", "anthropic", "gemini")


@dataclass(frozen=True)
class Platform:
    model: str
    prefix: str  # api_base = fake url + prefix
    kind: Kind
    path: str  # what litellm must request


PLATFORMS = {
    "openai": Platform("openai/gpt-4.1-mini", "/v1", "openai", "/v1/chat/completions"),
    "dashscope": Platform(
        "dashscope/qwen-plus",
        "/compatible-mode/v1",
        "openai",
        "/compatible-mode/v1/chat/completions",
    ),
    "ark": Platform(
        "volcengine/doubao-seed-1-6-251015", "/api/v3", "openai", "/api/v3/chat/completions"
    ),
    "zhipu": Platform("zai/glm-4.6", "/api/paas/v4", "openai", "/api/paas/v4/chat/completions"),
    "qianfan": Platform("openai/ernie-4.5-turbo-128k", "/v2", "openai", "/v2/chat/completions"),
    "spark": Platform("openai/lite", "/v1", "openai", "/v1/chat/completions"),
    "anthropic": Platform("anthropic/claude-sonnet-4-5", "", "anthropic", "/v1/messages"),
    "gemini": Platform(
        "gemini/gemini-2.5-flash",
        "/v1beta",
        "gemini",
        "/v1beta/models/gemini-2.5-flash:generateContent",
    ),
}


@dataclass(frozen=True)
class Site:
    fake: FakeUpstream
    url: str


@pytest.fixture(scope="module")
def litellm() -> ModuleType:
    import litellm as module

    module.suppress_debug_info = True
    return module


@pytest.fixture(scope="module")
def sites() -> Iterator[dict[str, Site]]:
    """One server per wire format for the whole module (the OpenAI one serves six platforms)."""
    with ExitStack() as stack:
        found: dict[str, Site] = {}
        for kind in KINDS:
            fake = FakeUpstream(kind)
            found[kind] = Site(fake, stack.enter_context(serve(fake.app)).url)
        yield found


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP, for what litellm hides (exact events, bodies, connection errors)."""
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture(autouse=True)
def _fresh(sites: dict[str, Site]) -> Iterator[None]:
    yield
    for site in sites.values():
        site.fake.reset()
        site.fake.keys = None


@dataclass
class Answer:
    """What the service would get back from litellm."""

    text: str
    usage: Any
    content_chunks: int = 0


async def complete(
    litellm: ModuleType,
    sites: dict[str, Site],
    platform: str,
    *,
    stream: bool = False,
    api_key: str = "sk-test",
    **kwargs: Any,
) -> Answer:
    """One litellm call the way the service makes it: explicit key, no hidden retries."""
    spec = PLATFORMS[platform]
    kwargs.setdefault("timeout", 10)
    response = await litellm.acompletion(
        model=spec.model,
        api_base=sites[spec.kind].url + spec.prefix,
        api_key=api_key,
        max_retries=0,
        messages=MESSAGES,
        stream=stream,
        **({"stream_options": {"include_usage": True}} if stream else {}),
        **kwargs,
    )
    if not stream:
        return Answer(response.choices[0].message.content, response.usage)
    answer = Answer("", None)
    async for chunk in response:
        if chunk.choices and chunk.choices[0].delta.content:
            answer.text += chunk.choices[0].delta.content
            answer.content_chunks += 1
        if getattr(chunk, "usage", None):
            answer.usage = chunk.usage
    return answer


def assert_credential_placed(site: Site, key: str = "sk-test") -> None:
    request = site.fake.requests[-1]
    assert request.credential == key
    if site.fake.kind == "openai":
        assert request.headers["authorization"] == f"Bearer {key}"
    elif site.fake.kind == "anthropic":
        assert request.headers["x-api-key"] == key
        assert request.headers["anthropic-version"] == "2023-06-01"
    else:
        assert request.headers["x-goog-api-key"] == key
        assert "key" not in request.query


# --- successful answers ------------------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_reply_text_and_usage(
    litellm: ModuleType, sites: dict[str, Site], platform: str
) -> None:
    site = sites[PLATFORMS[platform].kind]
    site.fake.script(Reply("Hello there, friend"))

    answer = await complete(litellm, sites, platform)

    assert answer.text == "Hello there, friend"
    usage = answer.usage
    assert (usage.prompt_tokens, usage.completion_tokens) == (PROMPT_WORDS, 3)
    assert usage.total_tokens == PROMPT_WORDS + 3
    request = site.fake.requests[-1]
    assert (request.method, request.path) == ("POST", PLATFORMS[platform].path)
    assert_credential_placed(site)


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_streamed_reply_text_chunks_and_usage(
    litellm: ModuleType, sites: dict[str, Site], platform: str
) -> None:
    site = sites[PLATFORMS[platform].kind]
    site.fake.script(Reply("One two three four", chunks=4, completion_tokens=9))

    answer = await complete(litellm, sites, platform, stream=True)

    assert answer.text == "One two three four"
    assert answer.content_chunks == 4
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (PROMPT_WORDS, 9)
    request = site.fake.requests[-1]
    if site.fake.kind == "gemini":
        assert request.path.endswith(":streamGenerateContent")
        assert request.query == {"alt": "sse"}
    else:
        assert request.json["stream"] is True
    assert_credential_placed(site)


async def test_openai_stream_ends_with_finish_reason_usage_chunk_and_done(
    sites: dict[str, Site], http: httpx.AsyncClient
) -> None:
    """The exact event sequence, read raw (litellm hides it)."""
    site = sites["openai"]
    site.fake.script(Reply("abcdef", chunks=2))
    body = {"model": "m", "messages": [], "stream": True, "stream_options": {"include_usage": True}}
    response = await http.post(
        f"{site.url}/v1/chat/completions", json=body, headers={"Authorization": "Bearer k"}
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [e.removeprefix("data: ") for e in response.text.split("\n\n") if e]
    assert events[-1] == "[DONE]"
    chunks = [httpx.Response(200, content=e).json() for e in events[:-1]]
    assert [c["choices"][0]["delta"].get("content") for c in chunks[:3]] == ["", "abc", "def"]
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}


async def test_models_listings_have_each_vendors_shape(
    sites: dict[str, Site], http: httpx.AsyncClient
) -> None:
    openai = await http.get(
        f"{sites['openai'].url}/compatible-mode/v1/models",
        headers={"Authorization": "Bearer k"},
    )
    anthropic = await http.get(
        f"{sites['anthropic'].url}/v1/models",
        headers={"x-api-key": "k", "anthropic-version": "2023-06-01"},
    )
    gemini = await http.get(f"{sites['gemini'].url}/v1beta/models?key=k")
    assert openai.json()["object"] == "list"
    assert openai.json()["data"][0] == {
        "id": "gpt-4.1-mini",
        "object": "model",
        "created": 1744318173,
        "owned_by": "system",
    }
    assert anthropic.json()["has_more"] is False
    assert anthropic.json()["data"][0]["type"] == "model"
    assert gemini.json()["models"][0]["name"] == "models/gemini-2.5-flash"
    assert sites["gemini"].fake.requests[-1].credential == "k"  # ?key= is accepted too


# --- credentials -------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["openai", "dashscope", "ark", "anthropic", "gemini"])
async def test_wrong_key_is_an_authentication_error(
    litellm: ModuleType, sites: dict[str, Site], platform: str
) -> None:
    site = sites[PLATFORMS[platform].kind]
    site.fake.keys = {"sk-good"}
    with pytest.raises(litellm.AuthenticationError):  # Gemini's is a 400 API_KEY_INVALID
        await complete(litellm, sites, platform, api_key="sk-bad")
    assert (await complete(litellm, sites, platform, api_key="sk-good")).text == "Hello!"


BEARER_X = {"Authorization": "Bearer x"}
ANTHROPIC_X = {"x-api-key": "x", "anthropic-version": "2023-06-01"}
GENERATE = "/v1beta/models/g:generateContent"


@pytest.mark.parametrize(
    ("kind", "path", "headers", "status", "marker"),
    [
        ("openai", "/v1/chat/completions", {}, 401, '"code":null'),
        ("openai", "/v1/chat/completions", BEARER_X, 401, '"code":"invalid_api_key"'),
        ("openai", "/compatible-mode/v1/chat/completions", BEARER_X, 401, '"request_id"'),
        ("openai", "/api/paas/v4/chat/completions", BEARER_X, 401, '"code":"1000"'),
        ("openai", "/api/v3/chat/completions", BEARER_X, 401, '"code":"AuthenticationError"'),
        ("anthropic", "/v1/messages", ANTHROPIC_X, 401, '"authentication_error"'),
        ("anthropic", "/v1/messages", {"x-api-key": "sk-good"}, 400, "anthropic-version"),
        ("gemini", GENERATE, {"x-goog-api-key": "x"}, 400, '"reason":"API_KEY_INVALID"'),
        ("gemini", GENERATE, BEARER_X, 401, '"status":"UNAUTHENTICATED"'),
        ("gemini", GENERATE, {}, 403, '"status":"PERMISSION_DENIED"'),
    ],
)  # fmt: skip
async def test_rejected_credentials_get_the_platforms_body(
    sites: dict[str, Site],
    http: httpx.AsyncClient,
    kind: str,
    path: str,
    headers: dict[str, str],
    status: int,
    marker: str,
) -> None:
    """The mount prefix picks the OpenAI-compatible platform's body (DashScope, Zhipu, Ark)."""
    site = sites[kind]
    site.fake.keys = {"sk-good"}
    response = await http.post(site.url + path, json={"model": "m"}, headers=headers)
    assert response.status_code == status
    assert marker in response.text


async def test_gemini_oauth_bearer_token_checked_by_a_predicate(
    litellm: ModuleType, sites: dict[str, Site]
) -> None:
    """A fake OAuth server decides which access tokens are live; the token rides in
    extra_headers (litellm still sends an x-goog-api-key, which the Bearer token outranks)."""
    site = sites["gemini"]
    site.fake.keys = lambda token: token == "ya29.live"

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "x-goog-user-project": "proj-1"}

    answer = await complete(litellm, sites, "gemini", extra_headers=bearer("ya29.live"))
    assert answer.text == "Hello!"
    assert site.fake.requests[-1].credential == "ya29.live"
    assert site.fake.requests[-1].headers["x-goog-user-project"] == "proj-1"
    with pytest.raises(litellm.AuthenticationError, match="UNAUTHENTICATED"):
        await complete(litellm, sites, "gemini", extra_headers=bearer("ya29.expired"))


async def test_scripts_are_per_credential_with_a_shared_fallback(
    litellm: ModuleType, sites: dict[str, Site]
) -> None:
    fake = sites["openai"].fake
    fake.script(errors.openai_insufficient_quota(), credential="sk-poor")
    fake.script(Reply("shared"))

    assert (await complete(litellm, sites, "openai", api_key="sk-rich")).text == "shared"
    with pytest.raises(litellm.RateLimitError):
        await complete(litellm, sites, "openai", api_key="sk-poor")
    # Own queue used up: the default reply, not the (now empty) shared queue.
    assert (await complete(litellm, sites, "openai", api_key="sk-poor")).text == "Hello!"
    assert [r.credential for r in fake.model_requests] == ["sk-rich", "sk-poor", "sk-poor"]


# --- vendor errors as litellm sees them --------------------------------------------------------


def _exception_text(exc: Exception) -> str:
    """Where a classifier can find the vendor's code: body, raw response, or message."""
    response = getattr(exc, "response", None)
    raw = getattr(response, "text", "") if response is not None else ""
    return f"{getattr(exc, 'body', None)} {raw} {exc}"


@pytest.mark.parametrize(
    ("platform", "error", "exception", "marker"),
    [
        ("openai", errors.openai_insufficient_quota(), "RateLimitError", "insufficient_quota"),
        ("dashscope", errors.dashscope_arrearage(), "BadRequestError", "'code': 'Arrearage'"),
        ("dashscope", errors.dashscope_free_quota_exceeded(), "RateLimitError", "Free allocated"),
        ("ark", errors.ark_account_overdue(), "APIError", '"code":"AccountOverdueError"'),
        ("ark", errors.ark_rate_limited(), "RateLimitError", "EndpointRPMExceeded"),
        ("zhipu", errors.zhipu("1211"), "BadRequestError", "'code': '1211'"),
        ("spark", errors.spark("11200"), "BadRequestError", "'code': '11200'"),
        ("spark", errors.spark("11203"), "RateLimitError", "'code': '11203'"),
        ("qianfan", errors.qianfan("malformed_json"), "BadRequestError", "malformed_json"),
        ("anthropic", errors.anthropic_overloaded(), "InternalServerError", "overloaded_error"),
        ("anthropic", errors.anthropic_billing_error(), "PaymentRequiredError", "billing_error"),
        ("anthropic", errors.anthropic_credit_balance_too_low(), "BadRequestError", "too low"),
        ("gemini", errors.gemini_quota_exhausted(), "RateLimitError", "PerDayPerProjectPerModel"),
        ("gemini", errors.gemini_overloaded(), "InternalServerError", "The model is overloaded"),
        ("gemini", errors.gemini_location_unsupported(), "BadRequestError", "FAILED_PRECONDITION"),
    ],
)  # fmt: skip
async def test_vendor_error_reaches_litellm_with_its_code(
    litellm: ModuleType,
    sites: dict[str, Site],
    platform: str,
    error: Error,
    exception: str,
    marker: str,
) -> None:
    sites[PLATFORMS[platform].kind].fake.script(error)
    with pytest.raises(getattr(litellm, exception)) as caught:
        await complete(litellm, sites, platform)
    assert type(caught.value).__name__ == exception
    assert marker in _exception_text(caught.value)


@pytest.mark.parametrize(
    ("platform", "error"),
    [("openai", errors.openai_rate_limited(7)), ("anthropic", errors.anthropic_rate_limited(7))],
)
async def test_retry_after_header_reaches_litellm(
    litellm: ModuleType, sites: dict[str, Site], platform: str, error: Error
) -> None:
    sites[PLATFORMS[platform].kind].fake.script(error)
    with pytest.raises(litellm.RateLimitError) as caught:
        await complete(litellm, sites, platform)
    assert caught.value.litellm_response_headers["retry-after"] == "7"


async def test_zai_route_retries_429_even_with_max_retries_0(
    litellm: ModuleType, sites: dict[str, Site]
) -> None:
    """litellm drops max_retries on `zai/`: the OpenAI SDK retries a 429 twice (with backoff).
    Not a fake's property, but the fake makes it visible; the service must avoid it."""
    fake = sites["openai"].fake
    arrears = errors.zhipu("1113")
    # retry-after-ms (which the OpenAI SDK honours) only keeps this test fast.
    fake.script(*[Error(arrears.status, arrears.body, {"retry-after-ms": "1"})] * 3)
    with pytest.raises(litellm.RateLimitError, match="您的账户已欠费"):
        await complete(litellm, sites, "zhipu")
    assert [r.headers["x-stainless-retry-count"] for r in fake.requests] == ["0", "1", "2"]


@pytest.mark.parametrize("platform", ["openai", "anthropic", "gemini"])
async def test_mid_stream_error_after_content(
    litellm: ModuleType, sites: dict[str, Site], platform: str
) -> None:
    error = {
        "openai": errors.openai_insufficient_quota(),
        "anthropic": errors.anthropic_overloaded(),
        "gemini": errors.gemini_overloaded(),
    }[platform]
    sites[PLATFORMS[platform].kind].fake.script(MidStreamError(2, error.body, text="Partial"))
    with pytest.raises(litellm.exceptions.MidStreamFallbackError) as caught:
        await complete(litellm, sites, platform, stream=True)
    assert caught.value.is_pre_first_chunk is False
    assert caught.value.generated_content == "Partial"
    # On OpenAI-SDK routes only the message survives (the code is lost): match on text.
    message = {"openai": "exceeded your current quota", "anthropic": "Overloaded"}
    assert message.get(platform, "The model is overloaded") in str(caught.value)


async def test_error_in_200_is_an_api_error_carrying_the_code(
    litellm: ModuleType, sites: dict[str, Site]
) -> None:
    sites["openai"].fake.script(ErrorIn200(errors.zhipu("1113").body))
    with pytest.raises(litellm.APIError) as caught:
        await complete(litellm, sites, "dashscope")
    assert caught.value.status_code == "1113"


# --- network failures --------------------------------------------------------------------------


async def test_drop_before_response_is_a_protocol_error(
    sites: dict[str, Site], http: httpx.AsyncClient
) -> None:
    site = sites["openai"]
    site.fake.script(Drop(), Drop(reset=True))
    url = f"{site.url}/v1/chat/completions"
    request: dict[str, Any] = {"json": {"model": "m"}, "headers": {"Authorization": "Bearer k"}}
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        await http.post(url, **request)
    with pytest.raises(httpx.ReadError):  # TCP RST
        await http.post(url, **request)
    assert (await http.post(url, **request)).status_code == 200  # the server is fine


@pytest.mark.parametrize("kind", ["openai", "anthropic", "gemini"])
async def test_drop_mid_stream_delivers_the_chunks_then_breaks(
    sites: dict[str, Site], http: httpx.AsyncClient, kind: str
) -> None:
    site = sites[kind]
    site.fake.script(Drop(after_chunks=2, text="abcd"))
    url, headers = {
        "openai": ("/v1/chat/completions", {"Authorization": "Bearer k"}),
        "anthropic": ("/v1/messages", {"x-api-key": "k", "anthropic-version": "2023-06-01"}),
        "gemini": ("/v1beta/models/g:streamGenerateContent?alt=sse", {"x-goog-api-key": "k"}),
    }[kind]
    received = b""
    with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
        body = {"model": "m", "messages": [], "stream": True}
        async with http.stream("POST", site.url + url, json=body, headers=headers) as response:
            assert response.status_code == 200
            async for data in response.aiter_bytes():
                received += data
    assert b'"ab"' in received
    assert b'"cd"' in received


async def test_drop_is_a_connection_error_in_litellm(
    litellm: ModuleType, sites: dict[str, Site]
) -> None:
    sites["openai"].fake.script(Drop(), Drop(after_chunks=1, text="Hi"))
    with pytest.raises(litellm.InternalServerError, match="Connection error"):
        await complete(litellm, sites, "openai")
    with pytest.raises(litellm.exceptions.MidStreamFallbackError) as caught:
        await complete(litellm, sites, "openai", stream=True)
    assert caught.value.generated_content == "Hi"


async def test_slow_answer_times_out_and_frees_the_fake(
    litellm: ModuleType, sites: dict[str, Site]
) -> None:
    sites["anthropic"].fake.script(Slow(5), Slow(0.05, then=Reply("late")))
    with pytest.raises(litellm.Timeout):
        await complete(litellm, sites, "anthropic", timeout=0.3)
    assert (await complete(litellm, sites, "anthropic")).text == "late"


# --- error builders ----------------------------------------------------------------------------


def test_error_builders_use_each_vendors_statuses() -> None:
    assert {
        code: errors.zhipu(code).status for code in ("1002", "1113", "1211", "1302", "1305")
    } == {
        "1002": 401,
        "1113": 429,
        "1211": 400,
        "1302": 429,
        "1305": 429,
    }
    assert [errors.spark(c).status for c in ("10003", "11200", "11201", "11202", "11203")] == [
        400,
        400,
        400,
        429,
        429,
    ]
    assert errors.spark("11200").body["error"]["message"].endswith(f"(sid: {errors.SPARK_SID})")
    assert errors.dashscope_arrearage().status == 400
    assert errors.dashscope_arrearage().body["request_id"]
    assert errors.ark_account_overdue().status == 403
    assert errors.anthropic_overloaded().status == 529
    assert errors.anthropic_rate_limited(30).headers["retry-after"] == "30"


def test_gemini_quota_error_says_daily_or_per_minute() -> None:
    def details(error: Error) -> dict[str, Any]:
        return {d["@type"].rsplit(".", 1)[1]: d for d in error.body["error"]["details"]}

    daily = details(errors.gemini_quota_exhausted(daily=True, retry_delay="12s"))
    minute = details(errors.gemini_quota_exhausted(daily=False))
    assert daily["QuotaFailure"]["violations"][0]["quotaId"].startswith("GenerateRequestsPerDay")
    assert "FreeTier" in daily["QuotaFailure"]["violations"][0]["quotaId"]
    assert daily["RetryInfo"]["retryDelay"] == "12s"
    assert minute["QuotaFailure"]["violations"][0]["quotaId"].startswith(
        "GenerateRequestsPerMinute"
    )
    assert (
        errors.gemini_api_key_invalid().body["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    )
