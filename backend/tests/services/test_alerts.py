"""Alerts on the migrated SQLite database, delivered to a real webhook receiver on 127.0.0.1: each
kind raised once and resolved when its condition clears, the call path's report, the webhook's
payload, retries and failures, and no secret anywhere."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr
from sqlalchemy import func, select, update

from app.api.deps import app_context
from app.core.database import session_scope, utcnow
from app.core.logging import configure_logging, redact_literally
from app.models import (
    AccountCooldown,
    AccountQuotaDay,
    AccountUsage,
    Alert,
    OAuthAccount,
    PlatformConfig,
)
from app.services import alerts
from app.services.alerts import checks, webhook
from app.services.alerts.checks import AlertChecker
from app.services.context import AppContext
from app.services.quota.quota_clock import quota_day
from tests.conftest import new_user
from tests.fakes.server import serve
from tests.fakes.webhook import TOKEN, WebhookReceiver
from tests.helpers.api import bind

KEY = "sk-alerts-secret-0123456789"


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver()
    with serve(hook.app) as server:
        hook.base = server.url  # type: ignore[attr-defined]
        yield hook


@pytest.fixture
def ctx(app: Any, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch) -> AppContext:
    """The app's context with the webhook pointed at the receiver and a short rate window."""
    receiver.reset()
    monkeypatch.setattr(webhook, "BACKOFF_S", 0.01)
    settings = app_context(app).settings.model_copy(
        update={
            "alert_webhook_url": SecretStr(receiver.url(receiver.base)),  # type: ignore[attr-defined]
            "alert_success_rate_window": 0.5,
            "alert_success_rate_min_requests": 10,
            "alert_success_rate_threshold": 0.8,
        }
    )
    return dataclasses.replace(app_context(app), settings=settings)


class Clock:
    """`time` as the checker reads it, moved by the test: rounds a given time apart."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(checks, "time", clock)
    return clock


def notifications(outcome: str) -> float:
    found = REGISTRY.get_sample_value("oauth_proxy_alert_notifications_total", {"outcome": outcome})
    return found or 0.0


async def me(client: Any, auth: dict[str, str]) -> int:
    return int((await client.get("/api/v1/auth/me", headers=auth)).json()["data"]["id"])


async def set_account(app: Any, account_id: int, **values: Any) -> None:
    async with session_scope(app_context(app).factory) as session:
        await session.execute(
            update(OAuthAccount).where(OAuthAccount.id == account_id).values(**values)
        )


async def open_count(app: Any, kind: str, **match: Any) -> int:
    async with app_context(app).factory() as session:
        query = select(func.count()).where(Alert.kind == kind, Alert.resolved_at.is_(None))
        for column, value in match.items():
            query = query.where(getattr(Alert, column) == value)
        return int(await session.scalar(query) or 0)


async def test_an_expired_account_raises_one_alert_until_it_is_renewed(app, client, ctx, receiver):
    auth = await new_user(app)
    account = await bind(client, auth, credentials={"api_key": KEY}, account_name="主账号")
    checker = AlertChecker(ctx)
    await set_account(
        app, account["id"], is_expired=True, status_reason=f"The key {KEY} was refused"
    )
    await checker.run()
    await checker.run()  # the condition lasts: still one alert, one notification

    raised = receiver.events_for(account_id=account["id"])
    assert [e["event"] for e in raised] == ["alert.raised"]
    assert set(raised[0]) == {"event", "alert"}
    alert = raised[0]["alert"]
    assert set(alert) == {
        "id", "kind", "platform_id", "user_id", "account_id", "message", "created_at",
        "resolved_at",
    }  # fmt: skip
    assert alert["kind"] == "account_expired" and alert["platform_id"] == "qwen"
    assert alert["user_id"] == await me(client, auth) and alert["resolved_at"] is None
    assert "主账号" in alert["message"] and "expired" in alert["message"]
    assert receiver.content_types[0].startswith("application/json")
    assert await open_count(app, "account_expired", account_id=account["id"]) == 1
    mine = (await client.get("/api/v1/oauth/alerts?state=open", headers=auth)).json()["data"]
    assert [a["id"] for a in mine] == [alert["id"]]

    await set_account(app, account["id"], is_expired=False, status_reason=None)
    await checker.run()
    events = receiver.events_for(account_id=account["id"])
    assert [e["event"] for e in events] == ["alert.raised", "alert.resolved"]
    assert events[1]["alert"]["id"] == alert["id"] and events[1]["alert"]["resolved_at"]
    assert await open_count(app, "account_expired", account_id=account["id"]) == 0
    everything = json.dumps(receiver.received)
    assert KEY not in everything and KEY[-8:] not in everything


async def test_all_accounts_out_of_quota_raises_and_clears(app, client, ctx, receiver):
    auth = await new_user(app)
    user_id = await me(client, auth)
    first = await bind(client, auth, credentials={"api_key": f"sk-a-{uuid.uuid4().hex}"})
    second = await bind(client, auth, credentials={"api_key": f"sk-b-{uuid.uuid4().hex}"})
    checker = AlertChecker(ctx)
    now = utcnow()
    await set_account(app, first["id"], exhausted_until=now + timedelta(hours=2))
    # Resting from one model is not being out of quota.
    async with session_scope(app_context(app).factory) as session:
        session.add(
            AccountCooldown(
                account_id=second["id"], model="qwen-turbo", reason="rate_limited",
                until=now + timedelta(minutes=5), failures=1,
            )
        )  # fmt: skip
    await checker.run()
    assert await open_count(app, "accounts_exhausted", user_id=user_id) == 0

    # The second account reaches its own daily limit in the quota ledger.
    await set_account(app, second["id"], quota_limit=1000)
    async with session_scope(app_context(app).factory) as session:
        qwen = await session.scalar(
            select(PlatformConfig).where(PlatformConfig.platform_id == "qwen")
        )
        session.add(
            AccountQuotaDay(account_id=second["id"], day=quota_day(qwen, now), used_tokens=1000)
        )
    await checker.run()
    events = receiver.events_for(user_id=user_id, kind="accounts_exhausted")
    assert [e["event"] for e in events] == ["alert.raised"]
    assert "out of quota until" in events[0]["alert"]["message"]
    assert events[0]["alert"]["platform_id"] == "qwen" and events[0]["alert"]["account_id"] is None

    await set_account(app, first["id"], exhausted_until=None)
    await checker.run()
    events = receiver.events_for(user_id=user_id, kind="accounts_exhausted")
    assert [e["event"] for e in events] == ["alert.raised", "alert.resolved"]


async def test_the_call_path_report_raises_once_and_notifies_in_the_background(
    app, client, ctx, receiver
):
    auth = await new_user(app)
    user_id = await me(client, auth)
    account = await bind(client, auth, platform="zhipu", credentials={"api_key": "id0.secret0"})
    until = utcnow() + timedelta(hours=3)
    await set_account(app, account["id"], exhausted_until=until)

    # Workers racing to report the same condition: one alert, one notification.
    await asyncio.gather(
        *(alerts.accounts_exhausted(ctx, user_id, "zhipu", until) for _ in range(5))
    )
    await alerts.accounts_exhausted(ctx, user_id, "zhipu", until)
    events = await receiver.wait_for(1, user_id=user_id)
    await webhook.drain(timeout_s=5)  # any other delivery would have arrived by now
    assert len(receiver.events_for(user_id=user_id)) == 1
    alert = events[0]["alert"]
    assert alert["kind"] == "accounts_exhausted" and alert["platform_id"] == "zhipu"
    assert f"{until:%Y-%m-%d %H:%M} UTC" in alert["message"]
    assert await open_count(app, "accounts_exhausted", user_id=user_id) == 1

    # The checks agree while the account is out of quota, and resolve it once it is not.
    checker = AlertChecker(ctx)
    await checker.run()
    assert await open_count(app, "accounts_exhausted", user_id=user_id) == 1
    await set_account(app, account["id"], exhausted_until=None)
    await checker.run()
    assert await open_count(app, "accounts_exhausted", user_id=user_id) == 0
    assert [e["event"] for e in receiver.events_for(user_id=user_id)] == [
        "alert.raised",
        "alert.resolved",
    ]


async def test_the_call_path_report_never_raises(app, ctx):
    broken = dataclasses.replace(ctx, factory=None)  # type: ignore[arg-type]
    await alerts.accounts_exhausted(broken, 1, "qwen", None)


async def add_usage(app: Any, account_id: int, *, answered: int = 0, failed: int = 0) -> None:
    async with session_scope(app_context(app).factory) as session:
        row = await session.get(AccountUsage, (account_id, "qwen-turbo", utcnow().date()))
        if row is None:
            session.add(
                AccountUsage(
                    account_id=account_id, model="qwen-turbo", day=utcnow().date(),
                    requests=answered, failures=failed,
                )
            )  # fmt: skip
        else:
            row.requests += answered
            row.failures += failed


async def test_a_low_success_rate_raises_a_platform_alert_until_calls_succeed_again(
    app, client, ctx, receiver, clock
):
    auth = await new_user(app)
    account = await bind(client, auth, credentials={"api_key": f"sk-{uuid.uuid4().hex}"})
    checker = AlertChecker(ctx)
    await checker.run()  # the first sample opens the window

    await add_usage(app, account["id"], answered=2, failed=18)
    clock.now += 0.6  # past the 0.5 s window
    await checker.run()
    raised = receiver.events_for(kind="success_rate_low", platform_id="qwen")
    assert [e["event"] for e in raised] == ["alert.raised"]
    assert raised[0]["alert"]["user_id"] is None
    assert "10% of 20 attempts" in raised[0]["alert"]["message"]

    # Too few attempts to judge: the alert stays open.
    await add_usage(app, account["id"], failed=3)
    clock.now += 0.6  # past the 0.5 s window
    await checker.run()
    assert await open_count(app, "success_rate_low", platform_id="qwen") == 1

    await add_usage(app, account["id"], answered=30)
    clock.now += 0.6  # past the 0.5 s window
    await checker.run()
    events = receiver.events_for(kind="success_rate_low", platform_id="qwen")
    assert [e["event"] for e in events] == ["alert.raised", "alert.resolved"]
    assert await open_count(app, "success_rate_low", platform_id="qwen") == 0


async def test_the_webhook_is_retried_on_server_errors_only(app, ctx, receiver):
    alert = Alert(id=0, kind="success_rate_low", subject="platform:x", message="m",
                  created_at=utcnow())  # fmt: skip
    url = receiver.url(receiver.base)
    receiver.fail_next(503, 502)
    await webhook.deliver(ctx.http, url, [("alert.raised", alert)])
    assert receiver.attempts == 3 and len(receiver.received) == 1

    receiver.reset()
    receiver.fail_next(400)
    await webhook.deliver(ctx.http, url, [("alert.raised", alert)])
    assert receiver.attempts == 1 and receiver.received == []

    # A receiver that is down costs one event's attempts, not every event's.
    receiver.reset()
    receiver.fail_next(*[500] * webhook.ATTEMPTS)
    failed = notifications("failed")
    await webhook.deliver(ctx.http, url, [("alert.raised", alert), ("alert.resolved", alert)])
    assert receiver.attempts == webhook.ATTEMPTS and receiver.received == []
    assert notifications("failed") == failed + 2


async def test_an_unreachable_webhook_never_stops_the_checks(app, client, ctx):
    auth = await new_user(app)
    account = await bind(client, auth, credentials={"api_key": f"sk-{uuid.uuid4().hex}"})
    await set_account(app, account["id"], is_expired=True)
    nowhere = ctx.settings.model_copy(
        update={"alert_webhook_url": SecretStr("http://127.0.0.1:9/hook")}
    )
    checker = AlertChecker(dataclasses.replace(ctx, settings=nowhere))
    assert await checker.run() >= 1
    assert await open_count(app, "account_expired", account_id=account["id"]) == 1


async def test_the_webhook_url_never_reaches_a_log_line(app, ctx, receiver, monkeypatch):
    stream = io.StringIO()
    configure_logging("INFO", json_lines=True, stream=stream)
    # httpx logs each request with its URL (litellm may have quietened it: make it speak).
    monkeypatch.setattr(logging.getLogger("httpx"), "level", logging.INFO)
    url = receiver.url(receiver.base)
    redact_literally(url)  # what create_app does with ALERT_WEBHOOK_URL
    receiver.fail_next(503)
    alert = Alert(
        id=0, kind="account_expired", subject="account:0", message="m", created_at=utcnow()
    )
    try:
        await webhook.deliver(ctx.http, url, [("alert.raised", alert)])
    finally:
        configure_logging("INFO", json_lines=True)
    lines = stream.getvalue()
    assert "webhook delivered" in lines and "HTTP Request: POST" in lines
    assert TOKEN not in lines


async def test_a_checker_that_missed_rounds_judges_nothing_from_its_stale_samples(
    app, client, ctx, receiver, clock
):
    auth = await new_user(app)
    account = await bind(client, auth, credentials={"api_key": f"sk-{uuid.uuid4().hex}"})
    settings = ctx.settings.model_copy(update={"alert_check_interval": 0.3})
    checker = AlertChecker(dataclasses.replace(ctx, settings=settings))
    await checker.run()
    await add_usage(app, account["id"], failed=50)
    clock.now += 0.9  # rounds ran elsewhere meanwhile: this sample starts afresh
    await checker.run()
    assert receiver.events_for(kind="success_rate_low") == []
    await add_usage(app, account["id"], failed=50)
    clock.now += 0.3
    await checker.run()
    assert [e["event"] for e in receiver.events_for(kind="success_rate_low")] == ["alert.raised"]
    await add_usage(app, account["id"], answered=50)
    clock.now += 0.9
    await checker.run()  # stale again: the open alert is left as it is
    assert await open_count(app, "success_rate_low", platform_id="qwen") == 1
    for _ in range(2):
        await add_usage(app, account["id"], answered=50)
        clock.now += 0.3
        await checker.run()
    assert await open_count(app, "success_rate_low", platform_id="qwen") == 0
