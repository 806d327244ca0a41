"""Rotating the credential key as the README says, with calls going through the service all along:
accounts bound under k1; the service restarted with `k2,k1`; scripts/rotate_credential_keys.py
run while calls keep coming; then k1 dropped, and every account still answers.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.crypto import generate_key
from tests.helpers.databases import scratch_database
from tests.helpers.processes import BACKEND_DIR, ServiceProcess, running_service
from tests.helpers.service_client import api_key, bind, fake_platforms_file, sign_up

pytestmark = pytest.mark.serial

ACCOUNTS = 12
CALLERS = 2  # calls in flight at once during the rotation


@dataclass
class CallLog:
    """Calls made in the background: when each ended, and what went wrong."""

    ended_at: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def during(self, start: float, end: float) -> int:
        return sum(start <= t <= end for t in self.ended_at)

    def wait_for_more(self, count: int, timeout_s: float = 60) -> None:
        """Until `count` more calls have ended (the first waits for litellm to load)."""
        target, deadline = len(self.ended_at) + count, time.monotonic() + timeout_s
        while len(self.ended_at) < target and time.monotonic() < deadline:
            time.sleep(0.05)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'rotation.db'}"
        return
    async with scratch_database("postgres") as url:
        yield url


def chat(http: httpx.Client, key: str, *, stream: bool) -> str | None:
    """One call through the service; None when it was answered in full, else what went wrong."""
    body = {
        "model": "openai/gpt-4.1-mini",
        "messages": [{"role": "user", "content": f"Say hello {uuid.uuid4().hex[:8]}"}],
        "stream": stream,
    }
    response = http.post(
        "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    complete = (
        response.text.rstrip().endswith("data: [DONE]") if stream else "Hello!" in response.text
    )
    return (
        None
        if response.status_code == 200 and complete
        else f"{response.status_code} {response.text[:200]}"
    )


@contextmanager
def calls_in_background(url: str, key: str) -> Iterator[CallLog]:
    """`CALLERS` threads calling without pause, streamed and not, until the block ends."""
    log, stop = CallLog(), threading.Event()

    def caller() -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            stream = False
            while not stop.is_set():
                failure = chat(http, key, stream=stream)
                log.ended_at.append(time.monotonic())
                if failure:
                    log.failures.append(failure)
                stream = not stream

    threads = [threading.Thread(target=caller) for _ in range(CALLERS)]
    for thread in threads:
        thread.start()
    try:
        yield log
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)


def rotate(service: ServiceProcess) -> str:
    """scripts/rotate_credential_keys.py as an operator runs it beside the service (same
    database, same keys); its report line."""
    done = subprocess.run(
        [sys.executable, str(BACKEND_DIR / "scripts" / "rotate_credential_keys.py")],
        cwd=service.work_dir,
        env=service.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


def bind_accounts(url: str, keys: list[str]) -> str:
    """A user with one OpenAI account per key; returns the user's API key."""
    with httpx.Client(base_url=url, timeout=30) as http:
        auth = sign_up(http)
        for key in keys:
            bind(http, auth, "openai", key)
        return api_key(http, auth)


def test_keys_rotate_while_calls_go_on_and_the_old_key_can_then_go(
    tmp_path: Path, platform_fakes: Any, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    old_key, new_key = generate_key(), generate_key()
    old, new = f"k1:{old_key}", f"k2:{new_key}"
    # Calls without pause: the requests-per-minute limits are not what this test is about.
    env = {
        "DATABASE_URL": database_url,
        "LITELLM_CACHE_ENABLED": "false",
        "CALL_USER_RATE_LIMIT": "",
    }
    platforms = fake_platforms_file(platform_fakes, tmp_path, unlimited=True, lean_only=True)
    keys = [f"sk-rotate-{uuid.uuid4().hex}" for _ in range(ACCOUNTS)]
    with running_service(tmp_path, env | {"CREDENTIAL_KEYS": old}, platforms_file=platforms) as s:
        caller_key = bind_accounts(s.url, keys)
        logs = s.log()

    # The README's steps: the new key first and the old one after it, restart, then the script.
    with running_service(tmp_path, env | {"CREDENTIAL_KEYS": f"{new},{old}"}) as service:
        with calls_in_background(service.url, caller_key) as calls:
            calls.wait_for_more(10)  # calls are flowing before the rotation starts
            began = time.monotonic()
            report = rotate(service)
            ended = time.monotonic()
            calls.wait_for_more(10)  # and go on after it
        logs += service.log()
    with capsys.disabled():
        print(
            f"\nrotation: {len(calls.ended_at)} calls, {len(calls.failures)} failed, "
            f"{calls.during(began, ended)} during the {ended - began:.1f} s rotation"
        )
    assert calls.failures == []
    assert calls.during(began, ended) > 0
    assert report == (
        f"re-encrypted {ACCOUNTS} account(s) under key 'k2'; 0 remaining; "
        "0 platform client secret(s) re-encrypted"
    )
    assert rotate(service).startswith("re-encrypted 0 account(s)")

    platform_fakes.openai.requests.clear()
    with running_service(tmp_path, env | {"CREDENTIAL_KEYS": new}) as only_new:
        with httpx.Client(base_url=only_new.url, timeout=30) as http:
            # The account with the most tokens left answers next: all take turns.
            for number in range(3 * ACCOUNTS):
                assert chat(http, caller_key, stream=number % 2 == 1) is None
        logs += only_new.log()
    assert {r.credential for r in platform_fakes.openai.model_requests} == set(keys)
    assert not [secret for secret in (old_key, new_key, *keys) if secret in logs]
