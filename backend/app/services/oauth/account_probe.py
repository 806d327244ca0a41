"""An account's test: one minimal call on that account alone, through the call path (its
admission, failover on the same account after a renewal, books and request log), on the
platform's default model, with its outcome and latency."""

from __future__ import annotations

import time
from dataclasses import replace

from app.core.database import session_scope
from app.core.errors import AppError
from app.models import User
from app.schemas.chat import ChatCompletionRequest
from app.schemas.oauth import AccountTestOut
from app.services.context import AppContext
from app.services.oauth.oauth_service import get_owned
from app.services.request_log import trace

PROBE = ChatCompletionRequest(messages=[{"role": "user", "content": "Say OK."}], max_tokens=8)


async def probe(ctx: AppContext, user: User, account_id: int) -> AccountTestOut:
    """Raises NotFound for an account that is not the user's; a failed call is an outcome."""
    async with session_scope(ctx.factory) as session:  # not held open during the call
        account = await get_owned(session, user, account_id)
    trace.caller(user.id)
    started = time.monotonic()
    asked = account.platform_id
    try:
        call = await ctx.call_path.prepare(user.id, PROBE, platform_id=account.platform_id)
        asked = f"{call.platform.platform_id}/{call.model}"
        await ctx.call_path.complete(replace(call, account_id=account.id))
    except AppError as failed:
        trace.refused_as(failed.status_code, failed.code)
        return AccountTestOut(
            outcome="failed", latency_ms=_since(started), model=asked,
            status=failed.status_code, error_code=failed.code, message=failed.message,
        )  # fmt: skip
    return AccountTestOut(outcome="ok", latency_ms=_since(started), model=asked, status=200)


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
