"""The seed's routes under /api/v1/oauth: platforms and the caller's own accounts."""

from __future__ import annotations

from fastapi import APIRouter, Path

from app.api.deps import CredentialStoreDep, CurrentUser, SessionDep
from app.schemas.common import Envelope, ok
from app.schemas.oauth import AccountOut, DeletedOut, InitiateRequest, InitiateResult
from app.schemas.platform import PlatformOut
from app.services import platforms
from app.services.oauth import oauth_service

router = APIRouter(prefix="/oauth", tags=["oauth"])

AccountId = Path(ge=1, le=2**63 - 1, description="the account's id")


@router.get("/platforms", response_model=Envelope[list[PlatformOut]], summary="Supported platforms")
async def list_platforms(session: SessionDep, _user: CurrentUser) -> Envelope[list[PlatformOut]]:
    rows = await platforms.list_platforms(session)
    return ok(
        [
            PlatformOut(
                platform_id=row.platform_id,
                platform_name=row.platform_name,
                description=row.description,
                is_enabled=row.is_enabled,
                available_models=list(row.litellm_config.get("available_models", [])),
                login_methods=platforms.login_methods(row),
            )
            for row in rows
        ]
    )


@router.post("/initiate", response_model=Envelope[InitiateResult], summary="Bind an account")
async def initiate(
    body: InitiateRequest, session: SessionDep, store: CredentialStoreDep, user: CurrentUser
) -> Envelope[InitiateResult]:
    return ok(await oauth_service.initiate(session, store, user, body))


@router.get("/accounts", response_model=Envelope[list[AccountOut]], summary="Your accounts")
async def list_accounts(session: SessionDep, user: CurrentUser) -> Envelope[list[AccountOut]]:
    return ok(await oauth_service.list_accounts(session, user))


@router.post(
    "/accounts/{account_id}/refresh",
    response_model=Envelope[AccountOut],
    summary="Refresh an account",
)
async def refresh_account(
    session: SessionDep, store: CredentialStoreDep, user: CurrentUser, account_id: int = AccountId
) -> Envelope[AccountOut]:
    return ok(await oauth_service.refresh(session, store, user, account_id))


@router.put(
    "/accounts/{account_id}/toggle",
    response_model=Envelope[AccountOut],
    summary="Enable or disable",
)
async def toggle_account(
    session: SessionDep, user: CurrentUser, account_id: int = AccountId
) -> Envelope[AccountOut]:
    return ok(await oauth_service.toggle(session, user, account_id))


@router.delete(
    "/accounts/{account_id}", response_model=Envelope[DeletedOut], summary="Delete an account"
)
async def delete_account(
    session: SessionDep, user: CurrentUser, account_id: int = AccountId
) -> Envelope[DeletedOut]:
    return ok(DeletedOut(id=await oauth_service.delete(session, user, account_id)))
