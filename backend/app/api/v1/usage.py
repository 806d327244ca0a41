"""Your usage: tokens, answered calls, failed attempts and their list-price cost per account,
model and day; and the cost summed per currency, platform and model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import CurrentUser, SessionDep
from app.schemas.common import Envelope, ok
from app.schemas.usage import RouteUsageOut, UsageRowOut, UsageSummaryOut
from app.services import cost_summary
from app.services.calls import usage
from app.services.quota import key_usage, route_usage

router = APIRouter(prefix="/oauth", tags=["oauth"])

Days = Annotated[int, Query(ge=1, le=366, description="how many days back, today included")]


@router.get("/usage", response_model=Envelope[list[UsageRowOut]], summary="Your usage by day")
async def list_usage(
    session: SessionDep, user: CurrentUser, days: Days = 30
) -> Envelope[list[UsageRowOut]]:
    since = datetime.now(UTC).date() - timedelta(days=days - 1)
    rows = await usage.usage_rows(session, user.id, since)
    return ok(rows)


@router.get(
    "/usage/routes",
    response_model=Envelope[list[RouteUsageOut]],
    summary="Your usage by day grouped by the route asked for and the target that served",
)
async def list_route_usage(
    session: SessionDep, user: CurrentUser, days: Days = 30
) -> Envelope[list[RouteUsageOut]]:
    since = datetime.now(UTC).date() - timedelta(days=days - 1)
    rows = await route_usage.route_rows(session, user.id, since)
    return ok([RouteUsageOut.model_validate(row) for row in rows])


@router.get(
    "/usage/summary",
    response_model=Envelope[UsageSummaryOut],
    summary="Your list-price cost per currency, platform and model",
)
async def usage_summary(
    session: SessionDep, user: CurrentUser, days: Days = 30
) -> Envelope[UsageSummaryOut]:
    since = datetime.now(UTC).date() - timedelta(days=days - 1)
    rows = await usage.usage_rows(session, user.id, since)
    keys = await key_usage.key_rows(session, user.id, since)
    return ok(cost_summary.summarize(rows, keys, since))
