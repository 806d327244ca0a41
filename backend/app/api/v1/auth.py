"""Users of the service: register, sign in, who am I."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import AppDep, ClientAddress, CurrentUser, SessionDep
from app.core.errors import Forbidden, TooManyRequests
from app.schemas.auth import Credentials, LoginCredentials, RegistrationOut, TokenOut, UserOut
from app.schemas.common import Envelope, ok
from app.services import users

router = APIRouter(prefix="/auth", tags=["auth"])


@router.get(
    "/registration", response_model=Envelope[RegistrationOut], summary="Whether one may register"
)
async def registration(session: SessionDep, ctx: AppDep) -> Envelope[RegistrationOut]:
    """Public: the sign-up form says whether it is open and whether its user will be the
    administrator (the only thing this tells about the users: whether any took that seat)."""
    is_open = ctx.settings.allow_registration
    becomes_admin = is_open and await users.admin_seat_free(session)
    return ok(RegistrationOut(open=is_open, becomes_admin=becomes_admin))


@router.post("/register", response_model=Envelope[UserOut], summary="Create a user")
async def register(
    body: Credentials,
    session: SessionDep,
    ctx: AppDep,
    client: ClientAddress,
) -> Envelope[UserOut]:
    settings, limiter = ctx.settings, ctx.guard_limiter
    if not settings.allow_registration:
        raise Forbidden("Registration is closed on this service.", code="registration_closed")
    per_client = limiter.item(settings.registration_limit)
    if not await limiter.hit(per_client, "register", client):
        raise TooManyRequests(
            "Too many registrations from this address; try again later.",
            retry_after_s=await limiter.retry_after_s(per_client, "register", client),
        )
    user = await users.register(session, body.username, body.password)
    return ok(UserOut.model_validate(user))


@router.post("/login", response_model=Envelope[TokenOut], summary="Sign in for an access token")
async def login(
    body: LoginCredentials,
    session: SessionDep,
    ctx: AppDep,
    client: ClientAddress,
) -> Envelope[TokenOut]:
    if not ctx.tokens.can_issue:
        raise Forbidden("Sign-in is handled by the host application that issues the tokens.")
    user = await users.sign_in(
        session, ctx.guard_limiter, ctx.settings, body.username, body.password, client
    )
    issued = ctx.tokens.issue(user.username)
    return ok(TokenOut(access_token=issued.access_token, expires_in=issued.expires_in))


@router.get("/me", response_model=Envelope[UserOut], summary="The signed-in user")
async def me(user: CurrentUser) -> Envelope[UserOut]:
    return ok(UserOut.model_validate(user))
