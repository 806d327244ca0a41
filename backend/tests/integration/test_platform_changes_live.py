"""A platform added from the command line (`scripts/init_oauth_platforms.py --file`) while the
service runs is usable at once by every process of it: with Redis (the generation bumped there),
without Redis (bumped in the database, read by each process at most once a second), and under
gunicorn with two workers."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.cache import DATABASE_READ_EVERY_S
from tests.conftest import BACKEND_DIR
from tests.helpers.databases import REDIS_URL
from tests.helpers.processes import running_service
from tests.helpers.service_client import api_key, bind, fake_platforms_file, sign_up

CALLS = 8


def acme(platform_fakes: Any) -> dict[str, Any]:
    return {
        "platform_id": "acme",
        "platform_name": "Acme AI",
        "oauth_config": {"login_methods": ["api_key"]},
        "litellm_config": {
            "provider": "openai",
            "api_base": f"{platform_fakes.urls['openai']}/acme/v1",
            "default_model": "acme-1",
            "available_models": ["acme-1"],
        },
    }


def call(service_url: str, key: str, model: str) -> httpx.Response:
    # A new connection each time, so that gunicorn hands the calls to either worker.
    body = {"model": model, "messages": [{"role": "user", "content": uuid.uuid4().hex}]}
    with httpx.Client(base_url=service_url, timeout=30) as http:
        return http.post(
            "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
        )


@pytest.mark.parametrize(
    ("redis", "workers"),
    [(False, None), (True, None), (False, 2)],
    ids=["no redis", "redis", "gunicorn, two workers, no redis"],
)
def test_a_platform_added_by_the_script_is_usable_at_once(
    tmp_path: Path, platform_fakes: Any, redis: bool, workers: int | None
):
    env = {"LITELLM_CACHE_ENABLED": "false"}
    if redis:
        env |= {"REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}"}
    platforms = fake_platforms_file(platform_fakes, tmp_path, unlimited=True, lean_only=True)
    with running_service(tmp_path, env, workers=workers, platforms_file=platforms) as service:
        with httpx.Client(base_url=service.url, timeout=30) as http:
            auth = sign_up(http)
            bind(http, auth, "openai", f"sk-live-{uuid.uuid4().hex}")
            key = api_key(http, auth)
            for _ in range(CALLS):  # every process has the platforms cached now
                assert call(service.url, key, "openai/gpt-4.1-mini").status_code == 200
            path = tmp_path / "acme.json"
            path.write_text(json.dumps([acme(platform_fakes)]))
            added = subprocess.run(
                [sys.executable, str(BACKEND_DIR / "scripts" / "init_oauth_platforms.py"),
                 "--file", str(path)],
                env=service.env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert "added: acme" in added.stdout, added.stderr
            loaded_at = time.monotonic()
            bind(http, auth, "acme", f"acme-live-{uuid.uuid4().hex}")
            # Without Redis a process reads the database's generations at most once a second.
            time.sleep(max(0.0, DATABASE_READ_EVERY_S - (time.monotonic() - loaded_at)))
            answers = [call(service.url, key, "acme/acme-1") for _ in range(CALLS)]
        assert [a.status_code for a in answers] == [200] * CALLS, answers[0].text
