"""Your alerts: your accounts that expired, your platforms whose accounts ran out of quota."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import CurrentUser, SessionDep
from app.schemas.alert import AlertOut, AlertState
from app.schemas.common import Envelope, ok
from app.services.alerts import store

router = APIRouter(prefix="/oauth", tags=["oauth"])

StateQuery = Annotated[AlertState | None, Query(description="open or resolved; both when absent")]
Limit = Annotated[int, Query(ge=1, le=500)]
BeforeId = Annotated[
    int | None, Query(ge=1, le=2**63 - 1, description="older than this alert (paging)")
]


@router.get("/alerts", response_model=Envelope[list[AlertOut]], summary="Your alerts")
async def list_my_alerts(
    session: SessionDep,
    user: CurrentUser,
    state: StateQuery = None,
    limit: Limit = 100,
    before_id: BeforeId = None,
) -> Envelope[list[AlertOut]]:
    alerts = await store.recent(
        session, user_id=user.id, state=state, limit=limit, before_id=before_id
    )
    return ok([AlertOut.model_validate(a) for a in alerts])
