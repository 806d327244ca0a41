"""The service as `make run` starts it: the set-up scripts, then uvicorn as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import BACKEND_DIR


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    data = tmp_path_factory.mktemp("run")
    port = _free_port()
    env = {
        "PATH": os.environ["PATH"],
        "DATA_DIR": str(data),  # the embedded SQLite default, in a temporary folder
        "LOCAL_SECRETS_FILE": str(data / ".local-secrets.env"),
        "ENVIRONMENT": "development",
        "LOG_JSON": "true",
    }
    # What `make run` does before it serves.
    for command in (["scripts/init_db.py"], ["scripts/init_oauth_platforms.py", "--only-missing"]):
        subprocess.run(
            [sys.executable, *command], cwd=BACKEND_DIR, env=env, check=True, capture_output=True
        )
    log = open(data / "service.log", "w+")  # noqa: SIM115 - closed in teardown
    uvicorn = [sys.executable, "-m", "uvicorn", "app.main:app"]
    process = subprocess.Popen(
        [*uvicorn, "--host", "127.0.0.1", "--port", str(port)],
        cwd=BACKEND_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        process.kill()
        raise AssertionError("the service did not become ready:\n" + log.read())
    yield base, data, log
    process.terminate()
    process.wait(timeout=15)
    log.close()


def test_a_fresh_service_serves_the_eight_platforms(service):
    base, data, _ = service
    body = {"username": "newcomer", "password": "a long password"}
    assert httpx.post(f"{base}/api/v1/auth/register", json=body).status_code == 200
    token = httpx.post(f"{base}/api/v1/auth/login", json=body).json()["data"]["access_token"]
    response = httpx.get(
        f"{base}/api/v1/oauth/platforms", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert len(response.json()["data"]) == 8
    assert (data / "oauth_proxy.db").exists()


def test_development_secrets_were_generated_privately(service):
    _, data, _ = service
    secrets_file = data / ".local-secrets.env"
    content = secrets_file.read_text()
    assert "JWT_SECRET=" in content and "CREDENTIAL_KEYS=k1:" in content
    assert secrets_file.stat().st_mode & 0o077 == 0


def test_log_lines_hold_no_secret(service):
    base, _, log = service
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
        log.seek(0)
        content = log.read()
    assert "POST /api/v1/oauth/initiate" in content
    assert key not in content and token not in content and "a long password" not in content
