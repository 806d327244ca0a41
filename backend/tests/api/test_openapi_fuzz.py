"""Every operation of /openapi.json fuzzed by schemathesis against the service as a real process:
valid and invalid requests, signed in as a real user (an administrator on the admin routes), must
never get a 5xx and every answer must be one the schema documents (status, content type, body).

The process is the reliable target: the app's database pools and background tasks live on the
server's own event loop, not on the one schemathesis' synchronous client would lend them. The
schema is built at import (schemathesis' lazy, fixture-loaded schema does not run under pytest
9.2) and checked to be the one the process serves.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from app.main import create_app
from tests.helpers.processes import running_service
from tests.helpers.service_client import DEAD_URL, bind, fake_platforms_file, sign_up

MAX_EXAMPLES = 15  # per operation, besides schemathesis' boundary cases: under a minute in all
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
    missing_required_header,
    unsupported_method,
]
SERVICE_ENV = {
    "SIGNIN_IP_LIMIT": "100000/minute",
    "REGISTRATION_LIMIT": "100000/minute",
    # A fuzzed browser login must fail at once rather than start Chromium.
    "PLAYWRIGHT_BROWSER_PATH": "/nonexistent/chromium",
    # Fuzzed calls should reach the platform, not stop at the requests-per-minute limits.
    "CALL_USER_RATE_LIMIT": "",
}
CALL_ROUTES = ("/v1/chat/completions", "/api/v1/oauth/chat/completions", "/v1/models")


@dataclass
class FuzzTarget:
    url: str
    admin: dict[str, str]
    user: dict[str, str]
    caller: dict[str, str]
    """Owns the accounts the call routes use (the fuzzed `user` cannot delete or disable them)."""
    cases: int = 0
    failures: list[str] = field(default_factory=list)

    def auth_for(self, path: str) -> dict[str, str]:
        if path.startswith("/api/v1/admin/"):
            return self.admin
        return self.caller if path in CALL_ROUTES else self.user


@pytest.fixture(scope="module")
def fuzz_target(
    tmp_path_factory: pytest.TempPathFactory, platform_fakes: Any, request: pytest.FixtureRequest
) -> Iterator[FuzzTarget]:
    work = tmp_path_factory.mktemp("fuzz")
    platforms = fake_platforms_file(platform_fakes, work, unlimited=True)
    with running_service(work, SERVICE_ENV, platforms_file=platforms) as service:
        with httpx.Client(base_url=service.url, timeout=30) as http:
            assert http.get("/openapi.json").json() == SERVED_SCHEMA
            admin, user, caller = sign_up(http), sign_up(http), sign_up(http)
            bind(http, caller, "openai", "sk-fuzz-0123456789abcdef")
        target = FuzzTarget(service.url, admin, user, caller)
        yield target
        assert "Traceback" not in service.log(), "the service logged an unhandled error"
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nschemathesis: {target.cases} cases, {len(target.failures)} failed")
        print("".join(f"  {failure}\n" for failure in target.failures), end="")


SERVED_SCHEMA = create_app().openapi()
schema = schemathesis.openapi.from_dict(SERVED_SCHEMA)


def keep_on_loopback(case: Any) -> None:
    """Aim what a fuzzed request could send the service to at this machine: the call routes at
    the account on the fake platform, a fuzzed platform config's addresses at a dead port."""
    body = case.body
    if not isinstance(body, dict):
        return
    if case.operation.path == "/v1/chat/completions":
        body["model"] = "openai/gpt-4.1-mini"
    elif case.operation.path == "/api/v1/oauth/chat/completions":
        body["platform"] = "openai"
    elif case.operation.path.startswith("/api/v1/admin/platforms/"):
        # Only a string: a case without one, or with another type, must be refused as it is.
        litellm_config = body.get("litellm_config")
        if isinstance(litellm_config, dict) and isinstance(litellm_config.get("api_base"), str):
            litellm_config["api_base"] = DEAD_URL if litellm_config["api_base"] else ""
        if isinstance(body.get("oauth_config"), dict):
            body["oauth_config"] = {k: DEAD_URL for k in body["oauth_config"]}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases every run: a failure in CI reproduces locally
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_its_schema_says(case: Any, fuzz_target: FuzzTarget) -> None:
    keep_on_loopback(case)
    fuzz_target.cases += 1
    try:
        case.call_and_validate(
            base_url=fuzz_target.url,
            headers=fuzz_target.auth_for(case.operation.path),
            checks=CHECKS,
            timeout=30,
        )
    except (Exception, BaseExceptionGroup) as failure:  # failed checks, or no answer at all
        fuzz_target.failures.append(f"{case.operation.label}: {str(failure).splitlines()[0]}")
        raise


class RawJson(str):
    """JSON text put into a body as it is (what `json.dumps` cannot write: `1e400`, deep nests)."""


class RawNumber(RawJson):
    pass


def to_raw_json(value: Any) -> str:
    if isinstance(value, RawJson):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {to_raw_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(to_raw_json(item) for item in value) + "]"
    return json.dumps(value)  # ASCII: a lone surrogate is written as its \\u escape


# Chat bodies as an attacker writes them: numbers past every bound, text with lone surrogates,
# nesting hundreds deep, in the known fields and in the extras that go to the platform.
_HUGE_NUMBERS = st.sampled_from(
    ["1e400", "-1e400", "1e30", "9223372036854775807", "9223372036854775808", "-0.0", "1e-400"]
).map(RawNumber)
_ODD_NUMBERS = st.one_of(
    _HUGE_NUMBERS,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
)
_LONE_SURROGATE = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"])
_ODD_TEXT = st.builds(
    lambda head, odd, tail: head + odd + tail, st.text(max_size=6), _LONE_SURROGATE,
    st.text(max_size=6),
)  # fmt: skip
_NESTED = st.integers(min_value=30, max_value=400).map(lambda n: RawJson("[" * n + "]" * n))
_ODD_VALUE = st.one_of(_ODD_NUMBERS, _ODD_TEXT, _NESTED, st.none(), st.text(max_size=6))
_NUMERIC_FIELDS = ("max_tokens", "max_completion_tokens", "temperature", "top_p", "n", "seed",
                   "presence_penalty", "frequency_penalty", "top_logprobs")  # fmt: skip


@st.composite
def odd_chat_bodies(draw: st.DrawFn) -> str:
    """A valid body but for one to three odd values, where the service meets them."""
    content = draw(st.one_of(st.just("hi"), _ODD_TEXT, _NESTED, _ODD_NUMBERS))
    body: dict[str, Any] = {"messages": [{"role": "user", "content": content}]}
    for name in draw(st.lists(st.sampled_from(_NUMERIC_FIELDS), max_size=2, unique=True)):
        body[name] = draw(_ODD_NUMBERS)
    if draw(st.booleans()):
        body[draw(st.sampled_from(["extra", "enable_thinking", "stop", "user"]))] = draw(_ODD_VALUE)
    return to_raw_json(body)


@given(body=odd_chat_bodies())
@settings(
    max_examples=60, deadline=None, derandomize=True, database=None,
    suppress_health_check=list(HealthCheck),
)  # fmt: skip
def test_odd_chat_bodies_get_a_4xx_or_an_answer_never_a_5xx(
    body: str, fuzz_target: FuzzTarget
) -> None:
    routes = {"/v1/chat/completions": '"model": "openai/gpt-4.1-mini", ',
              "/api/v1/oauth/chat/completions": '"platform": "openai", '}  # fmt: skip
    with httpx.Client(base_url=fuzz_target.url, timeout=30) as http:
        for path, prefix in routes.items():
            answer = http.post(
                path, content="{" + prefix + body[1:], headers=fuzz_target.caller
                | {"Content-Type": "application/json"},
            )  # fmt: skip
            assert answer.status_code < 500, (path, body, answer.text)
