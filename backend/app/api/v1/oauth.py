"""The seed's routes under /api/v1/oauth: platforms, binding, and the caller's own accounts.

Every route needs the caller's bearer token except the OAuth callback, which the user's browser
reaches from the platform: there the server-side `state` names the user.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from app.api.callback_page import render_callback_page, render_confirm_page
from app.api.deps import AppDep, CurrentUser, SessionDep
from app.api.errors import ENVELOPE_ERRORS
from app.core.errors import AppError
from app.schemas.common import Envelope, ok
from app.schemas.oauth import (
    AccountOut,
    AccountTestOut,
    DeletedOut,
    InitiateRequest,
    InitiateResult,
    QuotaOut,
    RefreshResult,
    SessionOut,
)
from app.schemas.platform import PlatformOut
from app.services import platforms
from app.services.oauth import (
    account_probe,
    authorization_sessions,
    browser_binding,
    oauth_service,
    session_endings,
)

router = APIRouter(prefix="/oauth", tags=["oauth"])

AccountId = Path(ge=1, le=2**63 - 1, description="the account's id")
State = Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
# The user's browser gets a page saying what went wrong; a malformed query and an internal error
# are the envelope (a model here would be documented as HTML, this route's own media type).
_ENVELOPE_JSON = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
CALLBACK_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"description": "The query is malformed", "content": _ENVELOPE_JSON},
    "4XX": {"description": "The page, saying why", "content": {"text/html": {}}},
    "5XX": {"description": ENVELOPE_ERRORS["5XX"]["description"], "content": _ENVELOPE_JSON},
}


@router.get("/platforms", response_model=Envelope[list[PlatformOut]], summary="Supported platforms")
async def list_platforms(
    session: SessionDep, ctx: AppDep, _user: CurrentUser
) -> Envelope[list[PlatformOut]]:
    rows = await platforms.list_platforms(session)
    unavailable = ctx.browser_logins.unavailable_methods()
    return ok(
        [
            PlatformOut(
                platform_id=row.platform_id,
                platform_name=row.platform_name,
                description=row.description,
                is_enabled=row.is_enabled,
                available_models=list(row.litellm_config.get("available_models", [])),
                embedding_models=list(row.litellm_config.get("embedding_models") or []),
                login_methods=platforms.login_methods(row, unavailable),
                unavailable_methods={
                    method: why
                    for method, why in unavailable.items()
                    if method in platforms.login_methods(row)
                },
            )
            for row in rows
        ]
    )


@router.post("/initiate", response_model=Envelope[InitiateResult], summary="Bind an account")
async def initiate(
    body: InitiateRequest,
    session: SessionDep,
    ctx: AppDep,
    user: CurrentUser,
    response: Response,
) -> Envelope[InitiateResult]:
    result = await oauth_service.initiate(ctx, session, user, body)
    if result.state and result._browser_binding:
        callback = urlsplit(ctx.settings.oauth_callback_url)
        response.set_cookie(
            browser_binding.cookie_name(result.state), result._browser_binding,
            max_age=ctx.settings.oauth_state_expire, path=callback.path or "/",
            secure=callback.scheme == "https", httponly=True, samesite="lax",
        )  # fmt: skip
    return ok(result)


@router.get(
    "/callback",
    response_class=HTMLResponse,
    responses=CALLBACK_ERRORS,
    summary="Where the platform sends the user's browser after an OAuth authorization",
)
async def callback(
    ctx: AppDep,
    request: Request,
    state: Annotated[str, Query(max_length=128)] = "",
    code: Annotated[str | None, Query(max_length=4096)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
    error_description: Annotated[str | None, Query(max_length=1024)] = None,
) -> HTMLResponse:
    try:
        binding = request.cookies.get(browser_binding.cookie_name(state))
        outcome = await authorization_sessions.handle_callback(
            ctx, state, code, error, error_description, binding
        )
    except AppError as exc:
        return render_callback_page(ok=False, message=exc.message, status_code=exc.status_code)
    if outcome.awaiting_confirmation:
        return render_confirm_page(state, outcome.message)
    return render_callback_page(
        ok=outcome.ok, message=outcome.message, account_id=outcome.account_id
    )


@router.delete(
    "/sessions/{state}", response_model=Envelope[SessionOut], summary="Cancel an authorization"
)
async def cancel_session(
    state: State, session: SessionDep, ctx: AppDep, user: CurrentUser
) -> Envelope[SessionOut]:
    await session_endings.cancel(session, user, state)
    await session.commit()  # ended before the login is stopped: it cannot finish meanwhile
    await ctx.browser_logins.cancel_here(state)
    return ok(await authorization_sessions.get_status(session, user, state))


@router.post(
    "/sessions/{state}/confirm",
    response_model=Envelope[SessionOut],
    summary="Confirm an OAuth authorization that finished in another browser",
)
async def confirm_session(
    state: State, session: SessionDep, ctx: AppDep, user: CurrentUser
) -> Envelope[SessionOut]:
    await authorization_sessions.confirm(ctx, user, state)
    return ok(await authorization_sessions.get_status(session, user, state))


@router.get(
    "/sessions/{state}", response_model=Envelope[SessionOut], summary="Follow an authorization"
)
async def get_session(state: State, session: SessionDep, user: CurrentUser) -> Envelope[SessionOut]:
    return ok(await authorization_sessions.get_status(session, user, state))


@router.get("/accounts", response_model=Envelope[list[AccountOut]], summary="Your accounts")
async def list_accounts(session: SessionDep, user: CurrentUser) -> Envelope[list[AccountOut]]:
    return ok(await oauth_service.list_accounts(session, user))


@router.get(
    "/accounts/{account_id}/quota", response_model=Envelope[QuotaOut], summary="An account's quota"
)
async def account_quota(
    session: SessionDep, user: CurrentUser, account_id: int = AccountId
) -> Envelope[QuotaOut]:
    return ok(await oauth_service.quota(session, user, account_id))


@router.post(
    "/accounts/{account_id}/refresh",
    response_model=Envelope[RefreshResult],
    summary="Renew or re-check an account's credential",
)
async def refresh_account(
    session: SessionDep, ctx: AppDep, user: CurrentUser, account_id: int = AccountId
) -> Envelope[RefreshResult]:
    return ok(await oauth_service.refresh(ctx, session, user, account_id))


@router.post(
    "/accounts/{account_id}/test",
    response_model=Envelope[AccountTestOut],
    summary="Make one minimal call on the account",
)
async def probe_account(
    ctx: AppDep, user: CurrentUser, account_id: int = AccountId
) -> Envelope[AccountTestOut]:
    return ok(await account_probe.probe(ctx, user, account_id))


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
