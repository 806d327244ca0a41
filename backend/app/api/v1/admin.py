"""Administration: platform configs, users, the audit log and alerts. Every route needs an
administrator."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.api.deps import AdminUser, AppDep, SessionDep
from app.api.v1.alerts import BeforeId, Limit, StateQuery
from app.core.database import utcnow
from app.core.errors import BadRequest, NotFound
from app.models import AuditEvent, PlatformConfig
from app.schemas.admin import (
    AuditEventOut,
    PlatformConfigEdit,
    PlatformConfigOut,
    UserSummary,
    mask_oauth_config,
)
from app.schemas.alert import AlertOut
from app.schemas.common import Envelope, ok
from app.services import audit, platforms, users
from app.services.alerts import store as alert_store
from app.services.providers import litellm_providers, with_canonical_provider
from app.services.quota import budget_use

router = APIRouter(prefix="/admin", tags=["admin"])

PlatformId = Annotated[str, Path(min_length=1, max_length=50, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


def _out(row: PlatformConfig, account_count: int = 0) -> PlatformConfigOut:
    # The stored JSON columns are validated into their models as the answer is built.
    return PlatformConfigOut.model_validate(
        {
            "platform_id": row.platform_id,
            "platform_name": row.platform_name,
            "description": row.description,
            "oauth_config": mask_oauth_config(row.oauth_config),
            "litellm_config": row.litellm_config,
            "quota_config": row.quota_config,
            "pricing": row.pricing,
            "is_enabled": row.is_enabled,
            "updated_at": row.updated_at,
            "account_count": account_count,
        }
    )


@router.get("/platforms", response_model=Envelope[list[PlatformConfigOut]], summary="All configs")
async def list_platform_configs(
    session: SessionDep, _admin: AdminUser
) -> Envelope[list[PlatformConfigOut]]:
    counts = await platforms.account_counts(session)
    rows = await platforms.list_platforms(session)
    return ok([_out(row, counts.get(row.platform_id, 0)) for row in rows])


@router.put(
    "/platforms/{platform_id}",
    response_model=Envelope[PlatformConfigOut],
    summary="Add or replace a platform's config",
)
async def save_platform_config(
    platform_id: PlatformId,
    body: PlatformConfigEdit,
    session: SessionDep,
    admin: AdminUser,
    ctx: AppDep,
) -> Envelope[PlatformConfigOut]:
    if body.platform_id != platform_id:
        raise BadRequest(
            f"The body names platform {body.platform_id!r} but the path names {platform_id!r}."
        )
    litellm = await ctx.call_path.llm.module()
    entry = with_canonical_provider(body, lambda: litellm_providers(litellm))
    row, changed = await platforms.save_platform(session, entry, ctx.store.cipher)
    audit.record(
        session, "platform.save", user_id=admin.id, target=f"platform:{platform_id}",
        detail={"changes": changed},
    )  # fmt: skip
    counts = await platforms.account_counts(session)
    return ok(_out(row, counts.get(platform_id, 0)))


@router.get("/audit", response_model=Envelope[list[AuditEventOut]], summary="The audit log")
async def audit_log(
    session: SessionDep,
    _admin: AdminUser,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    user_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Envelope[list[AuditEventOut]]:
    events = await audit.recent(
        session, limit=limit, before_id=before_id, action=action, user_id=user_id
    )
    return ok([_audit_out(event, username) for event, username in events])


def _audit_out(event: AuditEvent, username: str | None) -> AuditEventOut:
    out = AuditEventOut.model_validate(event)
    out.username = username
    return out


@router.get("/alerts", response_model=Envelope[list[AlertOut]], summary="Every alert")
async def list_alerts(
    session: SessionDep,
    _admin: AdminUser,
    state: StateQuery = None,
    limit: Limit = 100,
    before_id: BeforeId = None,
) -> Envelope[list[AlertOut]]:
    alerts = await alert_store.recent(session, state=state, limit=limit, before_id=before_id)
    return ok([AlertOut.model_validate(a) for a in alerts])


@router.get("/platforms/{platform_id}", response_model=Envelope[PlatformConfigOut])
async def get_platform_config(
    platform_id: PlatformId, session: SessionDep, _admin: AdminUser
) -> Envelope[PlatformConfigOut]:
    for row in await platforms.list_platforms(session):
        if row.platform_id == platform_id:
            return ok(_out(row, (await platforms.account_counts(session)).get(platform_id, 0)))
    raise NotFound(f"Unknown platform {platform_id!r}.")


@router.get("/users", response_model=Envelope[list[UserSummary]], summary="Users and accounts")
async def list_users(session: SessionDep, _admin: AdminUser) -> Envelope[list[UserSummary]]:
    found = await users.list_with_account_counts(session)
    uses = await budget_use.standing(session, "user", {u.id: u.limits for u in found}, utcnow())
    return ok([u.model_copy(update={"budgets": uses[u.id]}) for u in found])
