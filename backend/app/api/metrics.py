"""`GET /metrics` for Prometheus: request counters, plus account gauges read at scrape time."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy import case, func, select

from app.core.metrics import CONTENT_TYPE, render
from app.models import OAuthAccount

router = APIRouter(tags=["monitoring"])


async def _account_gauges(request: Request) -> CollectorRegistry:
    registry = CollectorRegistry()
    accounts = Gauge(
        "oauth_proxy_accounts", "Bound accounts by platform and state",
        ["platform", "state"], registry=registry,
    )  # fmt: skip
    state = case(
        (OAuthAccount.is_active.is_(False), "disabled"),
        (OAuthAccount.is_expired.is_(True), "expired"),
        else_="active",
    )
    async with request.app.state.session_factory() as session:
        rows = await session.execute(
            select(OAuthAccount.platform_id, state, func.count()).group_by(
                OAuthAccount.platform_id, state
            )
        )
        for platform, account_state, count in rows:
            accounts.labels(platform, account_state).set(count)
    return registry


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    return Response(render(await _account_gauges(request)), media_type=CONTENT_TYPE)
