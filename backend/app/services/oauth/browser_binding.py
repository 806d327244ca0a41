"""An OAuth authorization bound to the browser that started it (RFC 6749 §10.12, RFC 9700
§4.7): `initiate` sets an HttpOnly, SameSite=Lax cookie on the callback's path, and stores only
its hash. A callback that carries it finishes at once. One that does not — a flow started by
the API alone, or someone else's code sent to a state they learned — is parked: the code is
sealed with the session and nothing is exchanged until the session's owner, signed in, confirms
(`POST /api/v1/oauth/sessions/{state}/confirm`, which the callback page offers).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy import update

from app.core.database import session_scope, utcnow
from app.models import AuthorizationSession
from app.services.context import AppContext

AWAITING = "needs_user_action"
CONFIRM_REASON = "confirm"


def cookie_name(state: str) -> str:
    """One cookie per authorization, so that several may be under way in one browser."""
    return "oauth_binding_" + hashlib.sha256(state.encode()).hexdigest()[:16]


def new_binding() -> tuple[str, str]:
    """The cookie's value, and the hash the session keeps of it."""
    value = secrets.token_urlsafe(32)
    return value, _digest(value)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def matches(stored: str | None, given: str | None) -> bool:
    return bool(stored and given) and hmac.compare_digest(stored or "", _digest(given or ""))


async def is_bound_here(ctx: AppContext, state: str, given: str | None) -> bool:
    async with ctx.factory() as session:
        row = await session.get(AuthorizationSession, state)
        return row is not None and matches(row.browser_binding, given)


async def park(ctx: AppContext, state: str, sealed: str, detail: dict[str, Any]) -> bool:
    """Hold a pending session's code (sealed) for its owner to confirm; False when the session
    is not a pending, unexpired OAuth authorization."""
    async with session_scope(ctx.factory) as session:
        parked = await session.execute(
            update(AuthorizationSession)
            .where(
                AuthorizationSession.state == state,
                AuthorizationSession.method == "oauth",
                AuthorizationSession.status == "pending",
                AuthorizationSession.expires_at >= utcnow(),
            )
            .values(status=AWAITING, secret=sealed, detail=detail)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(parked, "rowcount", 0))
