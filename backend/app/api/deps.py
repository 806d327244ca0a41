"""Typed dependencies: the application's context, the request's database session, the current
user, the caller of a model.

Each is `async def`, even those that only read the context: FastAPI runs a plain `def` dependency
on a worker thread, a thread hop per dependency per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from app.core.database import session_scope
from app.core.errors import Forbidden, TooManyRequests, Unauthorized
from app.core.security import InvalidToken
from app.models import User
from app.services import api_keys, users
from app.services.context import AppContext
from app.services.key_limits import CALLER_LIMITS, CALLING_KEY
from app.services.request_log import trace


def app_context(app: Starlette) -> AppContext:
    """The context the lifespan built (the app's only state)."""
    context: AppContext = app.state.context
    return context


async def get_app_context(request: Request) -> AppContext:
    return app_context(request.app)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed before the response is sent, rolled back on error."""
    async with session_scope(app_context(request.app).factory) as session:
        yield session


async def get_client_address(request: Request) -> str:
    """The caller's address (behind a proxy, run uvicorn with --proxy-headers for the real one)."""
    return request.client.host if request.client else "unknown"


AppDep = Annotated[AppContext, Depends(get_app_context)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ClientAddress = Annotated[str, Depends(get_client_address)]

_bearer = HTTPBearer(auto_error=False, description="A JWT from /api/v1/auth/login")


async def get_current_user(
    session: SessionDep,
    ctx: AppDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None or not credentials.credentials:
        raise Unauthorized()
    try:
        subject = await ctx.tokens.verify(credentials.credentials)
    except InvalidToken as exc:
        raise Unauthorized(
            "The access token is invalid or has expired; sign in again.", code="invalid_token"
        ) from exc
    return await users.resolve_subject(session, subject, provision=ctx.settings.jwt_auto_provision)


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise Forbidden("This needs an administrator.")
    return user


AdminUser = Annotated[User, Depends(get_admin)]


caller_bearer = HTTPBearer(
    auto_error=False, description="An API key (`op-…`, from /api/v1/auth/api-keys) or a JWT"
)


# The model-call dependencies read the context directly rather than through a dependency of its
# own: FastAPI solves each dependency on every call.


async def get_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(caller_bearer)],
) -> User:
    """The caller of a model, by API key or JWT (`Authorization: Bearer`)."""
    token = credentials.credentials if credentials else None
    return await caller_by(request, token, "Authorization: Bearer <API key>")


async def caller_by(request: Request, token: str | None, how: str) -> User:
    """The user a credential names. Resolved in its own short transaction: a call may wait
    minutes on a platform, and no transaction may stay open meanwhile."""
    ctx = app_context(request.app)
    if not token:
        raise Unauthorized(f"Authentication required: send {how}.")
    if api_keys.looks_like_key(token):
        user = await api_keys.authenticate(ctx.factory, ctx.api_key_cache, token)
    else:
        user = await _jwt_caller(ctx, token)
    CALLER_LIMITS.set(user.limits)
    return user


async def _jwt_caller(ctx: AppContext, token: str) -> User:
    CALLING_KEY.set(None)
    try:
        subject = await ctx.tokens.verify(token)
    except InvalidToken as exc:
        raise Unauthorized(
            "The API key or access token is invalid or has expired.", code="invalid_token"
        ) from exc
    async with session_scope(ctx.factory) as session:
        provision = ctx.settings.jwt_auto_provision
        return await users.resolve_subject(session, subject, provision=provision)


async def get_model_caller(request: Request, caller: Annotated[User, Depends(get_caller)]) -> User:
    return await within_call_limit(request, caller)


async def within_call_limit(request: Request, caller: User) -> User:
    """The caller of a model, within CALL_USER_RATE_LIMIT (counted across workers with Redis)."""
    trace.caller(caller.id)  # a model call: recorded in the request log, even when refused
    ctx = app_context(request.app)
    settings, limiter = ctx.settings, ctx.limiter
    if settings.call_user_rate_limit:
        limit = limiter.item(settings.call_user_rate_limit)
        key = str(caller.id)
        if not await limiter.hit(limit, "user-calls", key):
            retry_s = await limiter.retry_after_s(limit, "user-calls", key)
            raise TooManyRequests(
                f"Too many calls: at most {settings.call_user_rate_limit} per user. "
                f"Try again in {retry_s} s.",
                retry_after_s=retry_s,
            )
    return caller


Caller = Annotated[User, Depends(get_caller)]
ModelCaller = Annotated[User, Depends(get_model_caller)]
