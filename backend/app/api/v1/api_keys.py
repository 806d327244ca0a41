"""API keys for the OpenAI-compatible API: create (the key is shown once), list, show, edit
(name, limits), revoke. Each key is shown with where its budgets stand.

Managed with a JWT only: a key calls models, it does not make more keys.
"""

from __future__ import annotations

from fastapi import APIRouter, Path
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import CurrentUser, SessionDep
from app.core.database import utcnow
from app.models import ApiKey
from app.schemas.api_keys import ApiKeyCreate, ApiKeyCreated, ApiKeyEdit, ApiKeyOut, RevokedOut
from app.schemas.common import Envelope, ok
from app.services import api_keys
from app.services.quota import budget_use

router = APIRouter(prefix="/auth/api-keys", tags=["auth"])

KeyId = Path(ge=1, le=2**63 - 1, description="the key's id")


async def _shown(session: AsyncSession, rows: list[ApiKey]) -> list[ApiKeyOut]:
    uses = await budget_use.standing(session, "key", {r.id: r.limits for r in rows}, utcnow())
    shown = [ApiKeyOut.model_validate(row) for row in rows]
    return [key.model_copy(update={"budgets": uses[key.id]}) for key in shown]


@router.post("", response_model=Envelope[ApiKeyCreated], summary="Create an API key")
async def create_key(
    body: ApiKeyCreate, session: SessionDep, user: CurrentUser
) -> Envelope[ApiKeyCreated]:
    limits = body.limits.model_dump(exclude_none=True) if body.limits else None
    row, key = await api_keys.create(session, user, body.name, limits)
    (shown,) = await _shown(session, [row])
    return ok(ApiKeyCreated(**shown.model_dump(), key=key))


@router.get("", response_model=Envelope[list[ApiKeyOut]], summary="Your API keys (prefix only)")
async def list_keys(session: SessionDep, user: CurrentUser) -> Envelope[list[ApiKeyOut]]:
    return ok(await _shown(session, await api_keys.list_keys(session, user)))


@router.get("/{key_id}", response_model=Envelope[ApiKeyOut], summary="One of your API keys")
async def get_key(
    session: SessionDep, user: CurrentUser, key_id: int = KeyId
) -> Envelope[ApiKeyOut]:
    (shown,) = await _shown(session, [await api_keys.get_key(session, user, key_id)])
    return ok(shown)


@router.patch("/{key_id}", response_model=Envelope[ApiKeyOut], summary="Rename a key, set limits")
async def edit_key(
    body: ApiKeyEdit, session: SessionDep, user: CurrentUser, key_id: int = KeyId
) -> Envelope[ApiKeyOut]:
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if "limits" in body.model_fields_set:
        changes["limits"] = body.limits.model_dump(exclude_none=True) if body.limits else None
    (shown,) = await _shown(session, [await api_keys.edit(session, user, key_id, changes)])
    return ok(shown)


@router.delete("/{key_id}", response_model=Envelope[RevokedOut], summary="Revoke an API key")
async def revoke_key(
    session: SessionDep, user: CurrentUser, key_id: int = KeyId
) -> Envelope[RevokedOut]:
    return ok(RevokedOut(id=await api_keys.revoke(session, user, key_id)))
