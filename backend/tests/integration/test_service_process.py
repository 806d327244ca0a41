"""The service as `make run` starts it: the set-up scripts, then uvicorn as a real process."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers.processes import ServiceProcess, running_service

pytestmark = pytest.mark.serial


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    # No secrets given: development generates them, and the database is the embedded SQLite.
    with running_service(tmp_path_factory.mktemp("run"), {}) as running:
        yield running


def test_a_fresh_service_serves_the_eight_platforms(service):
    base = service.url
    body = {"username": "newcomer", "password": "a long password"}
    assert httpx.post(f"{base}/api/v1/auth/register", json=body).status_code == 200
    token = httpx.post(f"{base}/api/v1/auth/login", json=body).json()["data"]["access_token"]
    response = httpx.get(
        f"{base}/api/v1/oauth/platforms", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert len(response.json()["data"]) == 8
    assert (service.work_dir / "oauth_proxy.db").exists()


def test_development_secrets_were_generated_privately(service):
    secrets_file = service.work_dir / ".local-secrets.env"
    content = secrets_file.read_text()
    assert "JWT_SECRET=" in content and "CREDENTIAL_KEYS=k1:" in content
    assert secrets_file.stat().st_mode & 0o077 == 0


def test_log_lines_hold_no_secret(service):
    base = service.url
    key = "sk-processlog-0123456789abcdef"
    body = {"username": "logger", "password": "a long password"}
    httpx.post(f"{base}/api/v1/auth/register", json=body)
    token = httpx.post(f"{base}/api/v1/auth/login", json=body).json()["data"]["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    httpx.post(
        f"{base}/api/v1/oauth/initiate",
        json={
            "platform": "qwen",
            "account_name": "x",
            "method": "api_key",
            "credentials": {"api_key": key},
        },
        headers=auth,
    )
    # The access log line is written just after the answer is sent: wait for it.
    deadline = time.monotonic() + 10
    content = ""
    while "POST /api/v1/oauth/initiate" not in content and time.monotonic() < deadline:
        time.sleep(0.1)
        content = service.log()
    assert "POST /api/v1/oauth/initiate" in content
    assert key not in content and token not in content and "a long password" not in content
