"""The request log: your calls, newest first, a page at a time; administrators read everyone's."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BeforeValidator

from app.api.deps import AdminUser, CurrentUser, SessionDep
from app.api.v1.alerts import Limit
from app.schemas.common import Envelope, ok
from app.schemas.request_log import RequestLogOut
from app.services.request_log import store
from app.services.request_log.store import Filters

router = APIRouter(prefix="/oauth", tags=["oauth"])
admin_router = APIRouter(prefix="/admin", tags=["admin"])

BeforeId = Annotated[
    int | None, Query(ge=1, le=2**63 - 1, description="older than this row (paging)")
]
PlatformQuery = Annotated[str | None, Query(max_length=50)]
IdQuery = Annotated[int | None, Query(ge=1, le=2**63 - 1)]
StatusQuery = Annotated[
    str | None,
    Query(
        pattern=r"^(ok|error|[1-5][0-9]{2})$",
        description="ok, error (refused, or a platform's failure) or an HTTP status",
    ),
]

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T")


def _iso_8601(value: object) -> object:
    """Only a written-out time: pydantic would also read a number as seconds since 1970."""
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("expected an ISO 8601 time such as 2026-12-04T10:00:00Z")
    return value


Time = Annotated[AwareDatetime, BeforeValidator(_iso_8601)]
Since = Annotated[Time | None, Query(description="from this time on (ISO 8601, zoned)")]
Until = Annotated[Time | None, Query(description="before this time (ISO 8601, zoned)")]


def _status(value: str | None) -> Literal["ok", "error"] | int | None:
    if value is None or value.isdigit():
        return int(value) if value else None
    return "ok" if value == "ok" else "error"


@router.get("/requests", response_model=Envelope[list[RequestLogOut]], summary="Your calls")
async def my_requests(
    session: SessionDep,
    user: CurrentUser,
    limit: Limit = 50,
    before_id: BeforeId = None,
    platform: PlatformQuery = None,
    account_id: IdQuery = None,
    status: StatusQuery = None,
    since: Since = None,
    until: Until = None,
) -> Envelope[list[RequestLogOut]]:
    filters = Filters(user.id, platform, account_id, _status(status), since, until)
    rows = await store.page(session, filters, limit=limit, before_id=before_id)
    return ok([RequestLogOut.model_validate(row) for row in rows])


@admin_router.get(
    "/requests", response_model=Envelope[list[RequestLogOut]], summary="Everyone's calls"
)
async def all_requests(
    session: SessionDep,
    _admin: AdminUser,
    limit: Limit = 50,
    before_id: BeforeId = None,
    user_id: IdQuery = None,
    platform: PlatformQuery = None,
    account_id: IdQuery = None,
    status: StatusQuery = None,
    since: Since = None,
    until: Until = None,
) -> Envelope[list[RequestLogOut]]:
    filters = Filters(user_id, platform, account_id, _status(status), since, until)
    rows = await store.page(session, filters, limit=limit, before_id=before_id)
    names = await store.usernames(session, rows)
    shown = [RequestLogOut.model_validate(row) for row in rows]
    return ok([row.model_copy(update={"username": names.get(row.user_id)}) for row in shown])
