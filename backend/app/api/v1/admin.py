"""Administration: platform configs and users. Every route needs an administrator."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.api.deps import AdminUser, SessionDep
from app.core.errors import BadRequest, NotFound
from app.models import PlatformConfig
from app.schemas.admin import PlatformConfigOut, UserSummary, mask_oauth_config
from app.schemas.common import Envelope, ok
from app.schemas.platform import PlatformConfigIn
from app.services import platforms, users

router = APIRouter(prefix="/admin", tags=["admin"])

PlatformId = Annotated[str, Path(min_length=1, max_length=50, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


def _out(row: PlatformConfig) -> PlatformConfigOut:
    return PlatformConfigOut(
        platform_id=row.platform_id,
        platform_name=row.platform_name,
        description=row.description,
        oauth_config=mask_oauth_config(row.oauth_config),
        litellm_config=row.litellm_config,  # type: ignore[arg-type]
        quota_config=row.quota_config,  # type: ignore[arg-type]
        is_enabled=row.is_enabled,
        updated_at=row.updated_at,
    )


@router.get("/platforms", response_model=Envelope[list[PlatformConfigOut]], summary="All configs")
async def list_platform_configs(
    session: SessionDep, _admin: AdminUser
) -> Envelope[list[PlatformConfigOut]]:
    return ok([_out(row) for row in await platforms.list_platforms(session)])


@router.put(
    "/platforms/{platform_id}",
    response_model=Envelope[PlatformConfigOut],
    summary="Add or replace a platform's config",
)
async def save_platform_config(
    platform_id: PlatformId, body: PlatformConfigIn, session: SessionDep, _admin: AdminUser
) -> Envelope[PlatformConfigOut]:
    if body.platform_id != platform_id:
        raise BadRequest(
            f"The body names platform {body.platform_id!r} but the path names {platform_id!r}."
        )
    return ok(_out(await platforms.save_platform(session, body)))


@router.get("/platforms/{platform_id}", response_model=Envelope[PlatformConfigOut])
async def get_platform_config(
    platform_id: PlatformId, session: SessionDep, _admin: AdminUser
) -> Envelope[PlatformConfigOut]:
    for row in await platforms.list_platforms(session):
        if row.platform_id == platform_id:
            return ok(_out(row))
    raise NotFound(f"Unknown platform {platform_id!r}.")


@router.get("/users", response_model=Envelope[list[UserSummary]], summary="Users and accounts")
async def list_users(session: SessionDep, _admin: AdminUser) -> Envelope[list[UserSummary]]:
    return ok(await users.list_with_account_counts(session))
