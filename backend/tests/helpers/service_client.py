"""Driving a running service (tests/helpers/processes.py) through its HTTP API, as a user
would: sign up, bind an account on a fake platform, make an API key; and the platform file that
puts every platform on the test's fakes.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx

from app.services.calls.passthrough import LEAN_PROVIDERS
from tests.conftest import PlatformFakes, shipped_platforms_on

# Nothing listens on the discard port: a browser console or OAuth server moved here is refused.
DEAD_URL = "http://127.0.0.1:9"
PASSWORD = "correct horse battery"


def fake_platforms_file(
    fakes: PlatformFakes, directory: Path, *, unlimited: bool = False, lean_only: bool = False
) -> Path:
    """The shipped platforms with their APIs on the fakes and every other address they name
    (consoles, OAuth and token endpoints) on a dead loopback port: no test reaches the internet.
    `unlimited` drops their requests-per-minute limits, for tests that measure the service under
    load rather than the limiter. `lean_only` disables the platforms whose calls go through
    litellm, for tests that call only the others: each process of the service then skips
    litellm's import (~9 s of CPU), which would compete with the load the test makes."""
    entries = [entry.model_dump(mode="json") for entry in shipped_platforms_on(fakes)]
    for entry in entries:
        entry["oauth_config"] = _on_loopback(entry["oauth_config"])
        if lean_only and entry["litellm_config"]["provider"] not in LEAN_PROVIDERS:
            entry["is_enabled"] = False
        if unlimited and entry["quota_config"]:
            entry["quota_config"].pop("rate_limit", None)
    path = directory / "platforms-on-fakes.json"
    path.write_text(json.dumps(entries))
    return path


def _on_loopback(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _on_loopback(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_on_loopback(item) for item in value]
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return DEAD_URL
    return value


def sign_up(http: httpx.Client) -> dict[str, str]:
    """Register and sign in a fresh user (the service's first becomes its administrator)."""
    body = {"username": f"user-{uuid.uuid4().hex[:12]}", "password": PASSWORD}
    http.post("/api/v1/auth/register", json=body).raise_for_status()
    token = http.post("/api/v1/auth/login", json=body).json()["data"]["access_token"]
    return {"Authorization": f"Bearer {token}"}


def bind(http: httpx.Client, auth: dict[str, str], platform: str, key: str) -> int:
    """Bind an API-key account; returns its id."""
    body = {
        "platform": platform,
        "account_name": f"{platform} {key[-4:]}",
        "method": "api_key",
        "credentials": {"api_key": key},
    }
    response = http.post("/api/v1/oauth/initiate", json=body, headers=auth)
    assert response.status_code == 200, response.text
    return int(response.json()["data"]["account"]["id"])


def api_key(http: httpx.Client, auth: dict[str, str], limits: dict[str, Any] | None = None) -> str:
    body = {"name": "tests", "limits": limits}
    response = http.post("/api/v1/auth/api-keys", json=body, headers=auth)
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["key"])
