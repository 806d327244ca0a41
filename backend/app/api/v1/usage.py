"""Your usage: tokens, answered calls and failed attempts per account, model and day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import CurrentUser, SessionDep
from app.schemas.common import Envelope, ok
from app.schemas.usage import UsageRowOut
from app.services.calls import usage

router = APIRouter(prefix="/oauth", tags=["oauth"])

Days = Annotated[int, Query(ge=1, le=366, description="how many days back, today included")]


@router.get("/usage", response_model=Envelope[list[UsageRowOut]], summary="Your usage by day")
async def list_usage(
    session: SessionDep, user: CurrentUser, days: Days = 30
) -> Envelope[list[UsageRowOut]]:
    since = datetime.now(UTC).date() - timedelta(days=days - 1)
    rows = await usage.usage_rows(session, user.id, since)
    return ok(rows)
