"""`/metrics`: Prometheus text with request counters by route template, account and quota gauges
read from the database, and worker gauges that stay right under several gunicorn workers."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from datetime import timedelta

from prometheus_client import multiprocess
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update

from app.api.deps import app_context
from app.core.database import session_scope, utcnow
from app.models import (
    AccountCooldown,
    AccountQuotaDay,
    AuthorizationSession,
    OAuthAccount,
    PlatformConfig,
)
from app.services.oauth import authorization_sessions
from app.services.oauth.browser.queue import LoginQueue
from app.services.quota.quota_clock import quota_day
from tests.conftest import BACKEND_DIR, new_user
from tests.helpers.api import bind
from tests.helpers.processes import minimal_env


async def test_metrics_count_requests_by_route_and_accounts_by_state(client, auth):
    account = await bind(client, auth)
    await client.put(f"/api/v1/oauth/accounts/{account['id']}/toggle", headers=auth)
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    body = response.text
    assert (
        'oauth_proxy_http_requests_total{method="PUT",'
        'route="/api/v1/oauth/accounts/{account_id}/toggle",status="200"}'
    ) in body
    assert f"/accounts/{account['id']}/" not in body  # templates, not raw ids
    assert 'oauth_proxy_accounts{platform="qwen",state="disabled"}' in body
    assert "oauth_proxy_http_request_duration_seconds_bucket" in body


async def test_paths_no_route_answers_share_one_label(client):
    await client.get("/no/such/path/12345")
    body = (await client.get("/metrics")).text
    assert 'route="unmatched",status="404"' in body
    assert "12345" not in body


# --- gauges read from the database, and this process's own state --------------------------------


def value(body: str, name: str, **labels: str) -> float | None:
    """One sample's value from Prometheus text (None when the series is absent)."""
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return None


def states(body: str, platform: str) -> dict[str, float]:
    return {
        state: value(body, "oauth_proxy_accounts", platform=platform, state=state) or 0.0
        for state in ("active", "disabled", "expired", "exhausted", "cooling")
    }


async def test_accounts_by_state_and_quota_per_account_follow_the_database(app, client):
    auth = await new_user(app)
    before = states((await client.get("/metrics")).text, "qwen")
    bound = [
        await bind(client, auth, credentials={"api_key": f"sk-{uuid.uuid4().hex}"})
        for _ in range(5)
    ]
    off, expired, exhausted, cooling, used = (a["id"] for a in bound)
    now = utcnow()
    await client.put(f"/api/v1/oauth/accounts/{off}/toggle", headers=auth)
    async with session_scope(app_context(app).factory) as session:
        for account_id, values in {
            expired: {"is_expired": True},
            exhausted: {"exhausted_until": now + timedelta(hours=1)},
            used: {"quota_limit": 10_000},
        }.items():
            await session.execute(
                update(OAuthAccount).where(OAuthAccount.id == account_id).values(**values)
            )
        session.add(
            AccountCooldown(
                account_id=cooling, model="qwen-turbo", reason="rate_limited",
                until=now + timedelta(minutes=5),
            )
        )  # fmt: skip
        qwen = await session.scalar(
            select(PlatformConfig).where(PlatformConfig.platform_id == "qwen")
        )
        session.add(
            AccountQuotaDay(
                account_id=used, day=quota_day(qwen, now), used_tokens=1234, reserved_tokens=100
            )
        )

    body = (await client.get("/metrics")).text
    after = states(body, "qwen")
    assert {s: after[s] - before[s] for s in after} == {s: 1.0 for s in after}
    quota = "oauth_proxy_account_quota_used_tokens"
    left = "oauth_proxy_account_quota_remaining_tokens"
    assert value(body, quota, platform="qwen", account=str(used)) == 1234
    assert value(body, left, platform="qwen", account=str(used)) == 10_000 - 1234 - 100
    # Without an account limit, the platform's daily limit applies.
    assert (
        value(body, left, platform="qwen", account=str(cooling)) == qwen.quota_config["daily_limit"]
    )


async def test_quota_used_rises_when_a_call_is_answered(app, client, auth):
    account = await bind(client, auth, credentials={"api_key": f"sk-{uuid.uuid4().hex}"})
    series = {"platform": "qwen", "account": str(account["id"])}
    body = (await client.get("/metrics")).text
    assert value(body, "oauth_proxy_account_quota_used_tokens", **series) == 0
    answered = await client.post(
        "/api/v1/oauth/chat/completions",
        json={"platform": "qwen", "messages": [{"role": "user", "content": uuid.uuid4().hex}]},
        headers=auth,
    )
    assert answered.status_code == 200, answered.text
    body = (await client.get("/metrics")).text
    # The fake counts a word per token: one word asked, "Hello!" answered.
    assert value(body, "oauth_proxy_account_quota_used_tokens", **series) == 2


async def test_browser_logins_in_use_and_waiting(client):
    queue = LoginQueue(1)
    name = "oauth_proxy_browser_logins"
    body = (await client.get("/metrics")).text
    running, waiting = value(body, name, state="running"), value(body, name, state="waiting")
    async with queue.slot("first"):
        second = asyncio.create_task(_hold(queue, "second"))
        await asyncio.sleep(0.05)
        body = (await client.get("/metrics")).text
        assert value(body, name, state="running") == (running or 0) + 1
        assert value(body, name, state="waiting") == (waiting or 0) + 1
    await second
    body = (await client.get("/metrics")).text
    assert value(body, name, state="running") == (running or 0)
    assert value(body, name, state="waiting") == (waiting or 0)


async def _hold(queue: LoginQueue, run_id: str) -> None:
    async with queue.slot(run_id):
        await asyncio.sleep(0.01)


async def test_finished_authorization_sessions_are_counted_by_outcome(app, client, auth):
    name = "oauth_proxy_authorization_sessions_total"
    series = {"method": "device", "outcome": "expired"}
    before = value((await client.get("/metrics")).text, name, **series) or 0
    user = (await client.get("/api/v1/auth/me", headers=auth)).json()["data"]["id"]
    state = uuid.uuid4().hex
    async with session_scope(app_context(app).factory) as session:
        session.add(
            AuthorizationSession(
                state=state, user_id=user, platform_id="qwen", account_name="x", method="device",
                expires_at=utcnow() + timedelta(minutes=5),
            )
        )  # fmt: skip
    await authorization_sessions.fail(
        app_context(app), state, failure="The code was not entered in time.", status="expired"
    )
    assert value((await client.get("/metrics")).text, name, **series) == before + 1


def test_worker_gauges_sum_over_live_workers_and_counters_over_all(tmp_path):
    """Under gunicorn (PROMETHEUS_MULTIPROC_DIR), a dead worker's browser logins drop out of the
    gauge while its counts stay in the totals."""
    env = minimal_env(tmp_path) | {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    worker = (
        "from app.core.metrics import BROWSER_LOGINS, CALLS;"
        "BROWSER_LOGINS.labels('running').inc(); CALLS.labels('qwen', 'qwen-turbo', 'ok').inc()"
    )
    pids = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", f"import os; {worker}; print(os.getpid())"],
            cwd=BACKEND_DIR, env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        pids.append(int(done.stdout))
    scrape = "from app.core.metrics import render; import sys; sys.stdout.write(render().decode())"

    def read() -> str:
        return subprocess.run(
            [sys.executable, "-c", scrape],
            cwd=BACKEND_DIR, env=env, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip

    body = read()
    assert value(body, "oauth_proxy_browser_logins", state="running") == 2
    assert value(body, "oauth_proxy_calls_total", platform="qwen", outcome="ok") == 2
    multiprocess.mark_process_dead(pids[0], str(tmp_path))  # what gunicorn's child_exit does
    body = read()
    assert value(body, "oauth_proxy_browser_logins", state="running") == 1
    assert value(body, "oauth_proxy_calls_total", platform="qwen", outcome="ok") == 2
