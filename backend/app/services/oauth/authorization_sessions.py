"""Authorization sessions: binding an account by OAuth (code + PKCE) or device code.

A session is created by `initiate`, followed by its owner through `GET /sessions/{state}`, and
finished by the callback (OAuth) or the device poller (`device_sessions`). `state` is random
(256 bits), stored server-side, single-use (the callback claims it with a conditional UPDATE) and
expires after OAUTH_STATE_EXPIRE seconds. The PKCE verifier and the device code are stored
encrypted."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import session_scope, utcnow
from app.core.errors import AppError, BadRequest, NotFound
from app.core.metrics import AUTHORIZATION_SESSIONS
from app.models import AuthorizationSession, OAuthAccount, PlatformConfig, User
from app.schemas.oauth import InitiateRequest, InitiateResult, SessionOut
from app.services import audit, platform_secrets
from app.services.context import AppContext
from app.services.oauth import browser_binding, oauth2_client
from app.services.oauth.accounts import account_out, create_account
from app.services.oauth.adapters import create_adapter
from app.services.oauth.adapters.base import BoundCredential
from app.services.oauth.credential_store import AccountSecrets, mask

logger = logging.getLogger(__name__)


def seal(ctx: AppContext, state: str, data: dict[str, Any]) -> str:
    return ctx.store.cipher.encrypt(
        orjson.dumps(data).decode(), f"authorization_sessions.secret:{state}"
    )


def without_screenshot(detail: dict[str, Any] | None) -> dict[str, Any] | None:
    """A session that ended keeps no picture of the login page (browser_sessions)."""
    return {k: v for k, v in detail.items() if k != "screenshot"} if detail else detail


def unseal(ctx: AppContext, row: AuthorizationSession) -> dict[str, Any]:
    if not row.secret:
        return {}
    plain = ctx.store.cipher.decrypt(row.secret, f"authorization_sessions.secret:{row.state}")
    parsed: dict[str, Any] = orjson.loads(plain)
    return parsed


def client_config(
    ctx: AppContext, platform: PlatformConfig, method: str
) -> oauth2_client.OAuthClientConfig:
    return oauth2_client.OAuthClientConfig.for_method(
        platform.platform_name,
        platform_secrets.opened(ctx.store.cipher, platform.platform_id, platform.oauth_config),
        method,
        timeout_s=ctx.settings.outbound_timeout,
        outbound=ctx.outbound,
    )


def account_settings(request: InitiateRequest) -> dict[str, Any]:
    # Non-secret options the user may give for an OAuth-bound account (Gemini's user project).
    project = (request.credentials.get("project") or "").strip()
    return {"project": project} if project else {}


async def start_oauth(
    ctx: AppContext,
    session: AsyncSession,
    user: User,
    platform: PlatformConfig,
    request: InitiateRequest,
) -> InitiateResult:
    config = client_config(ctx, platform, "oauth")
    state = secrets.token_urlsafe(32)
    auth_url, verifier = oauth2_client.authorization_url(
        config, ctx.settings.oauth_callback_url, state
    )
    binding, binding_hash = browser_binding.new_binding()
    session.add(
        AuthorizationSession(
            state=state,
            user_id=user.id,
            platform_id=platform.platform_id,
            account_name=request.account_name,
            method="oauth",
            status="pending",
            expires_at=utcnow() + timedelta(seconds=ctx.settings.oauth_state_expire),
            secret=seal(ctx, state, {"code_verifier": verifier}),
            detail={"auth_url": auth_url, "settings": account_settings(request)},
            browser_binding=binding_hash,
        )
    )
    await session.flush()
    result = InitiateResult(auth_url=auth_url, state=state)
    result._browser_binding = binding
    return result


async def get_status(session: AsyncSession, user: User, state: str) -> SessionOut:
    row = await session.scalar(
        select(AuthorizationSession).where(
            AuthorizationSession.state == state, AuthorizationSession.user_id == user.id
        )
    )
    if row is None:
        raise NotFound("No such authorization session.")
    status = row.status
    if status in UNFINISHED and row.expires_at < utcnow():
        status = "expired"
    account = None
    if row.account_id is not None:
        stored = await session.get(OAuthAccount, row.account_id)
        platform = await session.scalar(
            select(PlatformConfig).where(PlatformConfig.platform_id == row.platform_id)
        )
        account = account_out(stored, platform) if stored else None
    detail = row.detail or {}
    return SessionOut(
        state=row.state,
        platform_id=row.platform_id,
        method=row.method,
        status=status,
        expires_at=row.expires_at,
        auth_url=detail.get("auth_url"),
        user_code=detail.get("user_code"),
        verification_uri=detail.get("verification_uri"),
        verification_uri_complete=detail.get("verification_uri_complete"),
        interval=row.interval_s,
        prompt=detail.get("prompt"),
        step=detail.get("step"),
        queue_position=detail.get("queue_position"),
        reason=detail.get("reason"),
        code_kind=detail.get("code_kind"),
        has_screenshot=bool(detail.get("screenshot")),
        blocked=detail.get("blocked") or [],
        error=row.error,
        account=account,
    )


@dataclass(frozen=True)
class CallbackOutcome:
    ok: bool
    message: str
    account_id: int | None = None
    awaiting_confirmation: bool = False


UNFINISHED = ("pending", "needs_user_action", "completing")


async def end_overdue(session: AsyncSession, now: datetime) -> int:
    """End every session past its expiry that is still unfinished (its worker died, or its
    callback never came): none stays in a non-final state beyond its expiry. A browser login's
    progress goes with it (its screenshot may show the user's data)."""
    overdue = (AuthorizationSession.status.in_(UNFINISHED), AuthorizationSession.expires_at < now)
    await session.execute(
        update(AuthorizationSession)
        .where(*overdue, AuthorizationSession.method == "browser")
        .values(detail=None)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(
        update(AuthorizationSession)
        .where(*overdue)
        .values(
            status="expired", error="The authorization expired before it was finished.", secret=None
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


class InvalidState(BadRequest):
    code = "invalid_state"


@dataclass(frozen=True)
class _Claimed:
    """What an OAuth callback needs from the session it claimed."""

    platform: PlatformConfig | None
    verifier: str | None
    code: str | None
    """The code held for the owner's confirmation (browser_binding), if any."""
    settings: dict[str, Any]
    user_id: int
    account_name: str


async def _claim(
    ctx: AppContext, state: str, *, status: str = "pending", owner: int | None = None
) -> _Claimed:
    """Claim an OAuth session in `status` once (a conditional UPDATE: a replayed callback
    loses); with `owner`, only that user's."""
    now = utcnow()
    async with session_scope(ctx.factory) as session:
        row = await session.get(AuthorizationSession, state)
        if row is None or row.method != "oauth" or owner not in (None, row.user_id):
            raise InvalidState("Unknown authorization state: start the authorization again.")
        if row.expires_at < now:
            if row.status == status:
                row.status, row.error = (
                    "expired",
                    "The authorization expired before it was finished.",
                )
            raise InvalidState("This authorization has expired: start it again.")
        claimed = await session.execute(
            update(AuthorizationSession)
            .where(AuthorizationSession.state == state, AuthorizationSession.status == status)
            .values(status="completing")
            .execution_options(synchronize_session=False)
        )
        if not getattr(claimed, "rowcount", 0):
            raise InvalidState("This authorization was already used: start a new one.")
        platform = await session.scalar(
            select(PlatformConfig).where(PlatformConfig.platform_id == row.platform_id)
        )
        sealed = unseal(ctx, row)
        return _Claimed(
            platform,
            sealed.get("code_verifier"),
            sealed.get("code"),
            dict((row.detail or {}).get("settings") or {}),
            row.user_id,
            row.account_name,
        )


async def handle_callback(
    ctx: AppContext,
    state: str,
    code: str | None,
    error: str | None,
    error_description: str | None,
    binding: str | None = None,
) -> CallbackOutcome:
    """Finish an OAuth authorization: claim the state once, exchange the code, save the account.
    Reached without the cookie of the browser that started it, the code waits for its owner's
    confirmation instead (browser_binding)."""
    if code and not error and not await browser_binding.is_bound_here(ctx, state, binding):
        return await _hold_for_confirmation(ctx, state, code)
    return await _exchange(ctx, state, await _claim(ctx, state), code, error)


async def confirm(ctx: AppContext, user: User, state: str) -> CallbackOutcome:
    """The owner's go-ahead for a code that reached the callback from another browser."""
    claimed = await _claim(ctx, state, status=browser_binding.AWAITING, owner=user.id)
    return await _exchange(ctx, state, claimed, claimed.code, None)


async def _hold_for_confirmation(ctx: AppContext, state: str, code: str) -> CallbackOutcome:
    async with ctx.factory() as session:
        row = await session.get(AuthorizationSession, state)
    if row is None or row.method != "oauth":
        raise InvalidState("Unknown authorization state: start the authorization again.")
    detail = (row.detail or {}) | {"reason": browser_binding.CONFIRM_REASON}
    sealed = seal(ctx, state, unseal(ctx, row) | {"code": code})
    if not await browser_binding.park(ctx, state, sealed, detail):
        raise InvalidState("This authorization was already used or has expired: start a new one.")
    return CallbackOutcome(
        False,
        "This browser did not start the authorization: its owner, signed in, must confirm it.",
        awaiting_confirmation=True,
    )


async def _exchange(
    ctx: AppContext, state: str, claimed: _Claimed, code: str | None, error: str | None
) -> CallbackOutcome:
    platform, verifier = claimed.platform, claimed.verifier
    if platform is None:
        return await fail(
            ctx, state, failure="The platform of this authorization no longer exists."
        )
    if error:
        reason = (
            "You declined the authorization."
            if error == "access_denied"
            else (f"{platform.platform_name} reported an error: {error}.")
        )
        return await fail(ctx, state, failure=reason)
    if not code:
        return await fail(ctx, state, failure="The callback carried no authorization code.")
    try:
        tokens = await oauth2_client.exchange_code(
            client_config(ctx, platform, "oauth"), ctx.settings.oauth_callback_url, code, verifier
        )
    except oauth2_client.ProviderError as exc:
        return await fail(
            ctx,
            state,
            failure=f"{platform.platform_name} refused the authorization code ({exc.error}).",
        )
    except AppError as exc:
        return await fail(ctx, state, failure=exc.message)
    return await bind_tokens(
        ctx, state, platform, claimed.user_id, claimed.account_name, "oauth", tokens,
        claimed.settings,
    )  # fmt: skip


async def bind_tokens(
    ctx: AppContext,
    state: str,
    platform: PlatformConfig,
    user_id: int,
    account_name: str,
    method: str,
    tokens: oauth2_client.TokenSet,
    settings: dict[str, Any],
) -> CallbackOutcome:
    bound = BoundCredential(
        AccountSecrets(access_token=tokens.access_token, refresh_token=tokens.refresh_token),
        settings=settings | {"oauth": True},
        expires_at=tokens.expires_at,
        hint=mask(tokens.access_token),
    )
    return await complete(ctx, state, platform, user_id, account_name, method, bound)


async def complete(
    ctx: AppContext,
    state: str,
    platform: PlatformConfig,
    user_id: int,
    account_name: str,
    method: str,
    bound: BoundCredential,
    *,
    validate: bool = True,
) -> CallbackOutcome:
    """Validate the credential with the platform, then save the account and finish the session."""
    limited = None
    if validate:
        try:
            bound, limited = await create_adapter(platform, ctx.http).checked(bound)
        except AppError as exc:
            return await fail(ctx, state, failure=exc.message)
    async with session_scope(ctx.factory) as session:
        account = await create_account(
            session, ctx.store, user_id, platform, account_name, method, bound, limited
        )
        row = await session.get(AuthorizationSession, state)
        if row is not None:
            row.status, row.account_id, row.secret = "completed", account.id, None
            row.detail = without_screenshot(row.detail)
        audit.record(
            session, "account.create", user_id=user_id, target=f"account:{account.id}",
            detail={"platform": platform.platform_id, "method": method},
        )  # fmt: skip
    if row is not None:
        AUTHORIZATION_SESSIONS.labels(method, "completed").inc()
    return CallbackOutcome(
        True, f"{platform.platform_name} account “{account_name}” is bound.", account.id
    )


async def fail(
    ctx: AppContext, state: str, *, failure: str, status: str = "failed"
) -> CallbackOutcome:
    async with session_scope(ctx.factory) as session:
        row = await session.get(AuthorizationSession, state)
        # A session that ended already (cancelled by its owner) keeps its own ending.
        ending = row is not None and row.status in UNFINISHED
        if row is not None and ending:
            row.status, row.error, row.secret = status, failure[:500], None
            row.detail = without_screenshot(row.detail)
            audit.record(
                session, "authorization.end", user_id=row.user_id,
                target=f"platform:{row.platform_id}", outcome=status,
                detail={"method": row.method, "reason": failure[:200]},
            )  # fmt: skip
    if row is not None and ending:
        AUTHORIZATION_SESSIONS.labels(row.method, status).inc()
    return CallbackOutcome(False, failure)
