"""`GET /metrics` for Prometheus: this process's counters (every worker's, in multiprocess mode),
plus gauges of what the database knows, read at each scrape.

Reading the database per scrape keeps those gauges right with any number of workers and
instances (whichever process answers sees the same rows; nothing is summed twice) and costs a
few grouped queries, once per scrape interval.
"""

from __future__ import annotations

import hmac
from collections import Counter

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, Gauge

from app.api.deps import app_context
from app.core.database import utcnow
from app.core.errors import Unauthorized
from app.core.metrics import CONTENT_TYPE, render
from app.services import account_health, account_status

router = APIRouter(tags=["monitoring"])


async def _database_gauges(request: Request, *, per_account: bool) -> CollectorRegistry:
    registry = CollectorRegistry()
    accounts = Gauge(
        "oauth_proxy_accounts",
        "Bound accounts by platform and state (active, disabled, expired, exhausted, cooling)",
        ["platform", "state"], registry=registry,
    )  # fmt: skip
    used = Gauge(
        "oauth_proxy_account_quota_used_tokens",
        "Tokens an account has used on its platform's current quota day",
        ["platform", "account"], registry=registry,
    )  # fmt: skip
    remaining = Gauge(
        "oauth_proxy_account_quota_remaining_tokens",
        "Tokens new calls may still take from an account today (accounts with a daily limit)",
        ["platform", "account"], registry=registry,
    )  # fmt: skip
    async with app_context(request.app).factory() as session:
        health = await account_health.load(session, utcnow())
    platforms = {h.platform_id for h in health}
    counts = Counter((h.platform_id, h.state) for h in health)
    for platform in platforms:
        for state in account_status.STATUSES:
            accounts.labels(platform, state).set(counts[(platform, state)])
    for h in health if per_account else ():
        used.labels(h.platform_id, str(h.account_id)).set(h.used_today)
        if h.remaining_today is not None:
            remaining.labels(h.platform_id, str(h.account_id)).set(h.remaining_today)
    return registry


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    settings = app_context(request.app).settings
    if settings.metrics_token is not None:
        expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            raise Unauthorized("/metrics needs Authorization: Bearer <METRICS_TOKEN>.")
    registry = await _database_gauges(request, per_account=settings.metrics_per_account)
    return Response(render(registry), media_type=CONTENT_TYPE)
