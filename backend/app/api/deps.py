"""Typed dependencies: the request's database session, the current user, the credential store.

Each is `async def`, even those that only read app state: FastAPI runs a plain `def` dependency
on a worker thread, a thread hop per dependency per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.database import session_scope
from app.core.errors import Forbidden, TooManyRequests, Unauthorized
from app.core.rate_limit import RateLimiter
from app.core.security import InvalidToken, TokenService
from app.models import User
from app.services import api_keys, users
from app.services.calls.call_path import CallPath
from app.services.oauth.browser_sessions import BrowserLogins
from app.services.oauth.context import OAuthContext


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed before the response is sent, rolled back on error."""
    async with session_scope(request.app.state.session_factory) as session:
        yield session


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_token_service(request: Request) -> TokenService:
    tokens: TokenService = request.app.state.tokens
    return tokens


async def get_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


async def get_client_address(request: Request) -> str:
    """The caller's address (behind a proxy, run uvicorn with --proxy-headers for the real one)."""
    return request.client.host if request.client else "unknown"


async def get_browser_logins(request: Request) -> BrowserLogins:
    logins: BrowserLogins = request.app.state.browser_logins
    return logins


async def get_oauth_context(request: Request) -> OAuthContext:
    ctx: OAuthContext = request.app.state.oauth
    return ctx


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
TokensDep = Annotated[TokenService, Depends(get_token_service)]
OAuthContextDep = Annotated[OAuthContext, Depends(get_oauth_context)]
BrowserLoginsDep = Annotated[BrowserLogins, Depends(get_browser_logins)]
LimiterDep = Annotated[RateLimiter, Depends(get_limiter)]
ClientAddress = Annotated[str, Depends(get_client_address)]

_bearer = HTTPBearer(auto_error=False, description="A JWT from /api/v1/auth/login")


async def get_current_user(
    session: SessionDep,
    tokens: TokensDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None or not credentials.credentials:
        raise Unauthorized()
    try:
        subject = await tokens.verify(credentials.credentials)
    except InvalidToken as exc:
        raise Unauthorized(
            "The access token is invalid or has expired; sign in again.", code="invalid_token"
        ) from exc
    return await users.resolve_subject(session, subject, provision=settings.jwt_auto_provision)


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise Forbidden("This needs an administrator.")
    return user


AdminUser = Annotated[User, Depends(get_admin)]


caller_bearer = HTTPBearer(
    auto_error=False, description="An API key (`op-…`, from /api/v1/auth/api-keys) or a JWT"
)


# The model-call dependencies read the app's state directly rather than through dependencies of
# their own: FastAPI solves each dependency on every call.


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
    tokens: TokenService = request.app.state.tokens
    settings: Settings = request.app.state.settings
    if not token:
        raise Unauthorized(f"Authentication required: send {how}.")
    factory = request.app.state.session_factory
    if api_keys.looks_like_key(token):
        cache: api_keys.ApiKeyCache = request.app.state.api_key_cache
        return await api_keys.authenticate(factory, cache, token)
    try:
        subject = await tokens.verify(token)
    except InvalidToken as exc:
        raise Unauthorized(
            "The API key or access token is invalid or has expired.", code="invalid_token"
        ) from exc
    async with session_scope(factory) as session:
        return await users.resolve_subject(session, subject, provision=settings.jwt_auto_provision)


async def get_model_caller(request: Request, caller: Annotated[User, Depends(get_caller)]) -> User:
    return await within_call_limit(request, caller)


async def within_call_limit(request: Request, caller: User) -> User:
    """The caller of a model, within CALL_USER_RATE_LIMIT (counted across workers with Redis)."""
    settings: Settings = request.app.state.settings
    limiter: RateLimiter = request.app.state.limiter
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


async def get_llm_proxy(request: Request) -> CallPath:
    proxy: CallPath = request.app.state.llm_proxy
    return proxy


Caller = Annotated[User, Depends(get_caller)]
ModelCaller = Annotated[User, Depends(get_model_caller)]
LLMProxyDep = Annotated[CallPath, Depends(get_llm_proxy)]
