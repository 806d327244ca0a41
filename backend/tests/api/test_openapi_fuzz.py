"""Every operation of /openapi.json fuzzed by schemathesis against the service as a real process:
valid and invalid requests, signed in as a real user (an administrator on the admin routes), must
never get a 5xx and every answer must be one the schema documents (status, content type, body).

The process is the reliable target: the app's database pools and background tasks live on the
server's own event loop, not on the one schemathesis' synchronous client would lend them. The
schema is built at import (schemathesis' lazy, fixture-loaded schema does not run under pytest
9.2) and checked to be the one the process serves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
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
        if isinstance(body.get("litellm_config"), dict):
            body["litellm_config"]["api_base"] = DEAD_URL
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
