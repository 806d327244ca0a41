"""API keys for the OpenAI-compatible API: create (the key is shown once), list, revoke.

Managed with a JWT only: a key calls models, it does not make more keys.
"""

from __future__ import annotations

from fastapi import APIRouter, Path

from app.api.deps import CurrentUser, SessionDep
from app.schemas.api_keys import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, RevokedOut
from app.schemas.common import Envelope, ok
from app.services import api_keys

router = APIRouter(prefix="/auth/api-keys", tags=["auth"])

KeyId = Path(ge=1, le=2**63 - 1, description="the key's id")


@router.post("", response_model=Envelope[ApiKeyCreated], summary="Create an API key")
async def create_key(
    body: ApiKeyCreate, session: SessionDep, user: CurrentUser
) -> Envelope[ApiKeyCreated]:
    row, key = await api_keys.create(session, user, body.name)
    return ok(ApiKeyCreated(**ApiKeyOut.model_validate(row).model_dump(), key=key))


@router.get("", response_model=Envelope[list[ApiKeyOut]], summary="Your API keys (prefix only)")
async def list_keys(session: SessionDep, user: CurrentUser) -> Envelope[list[ApiKeyOut]]:
    return ok([ApiKeyOut.model_validate(row) for row in await api_keys.list_keys(session, user)])


@router.delete("/{key_id}", response_model=Envelope[RevokedOut], summary="Revoke an API key")
async def revoke_key(
    session: SessionDep, user: CurrentUser, key_id: int = KeyId
) -> Envelope[RevokedOut]:
    return ok(RevokedOut(id=await api_keys.revoke(session, user, key_id)))
