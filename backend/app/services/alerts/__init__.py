"""Alerts: raised when an account expires, when a platform's success rate falls, when a user's
accounts on a platform are all out of quota, and when a budget reaches 80% or 100% of its limit
(alerts/budget_alerts.py); resolved when that clears; sent to the webhook.

The checks (`checks.AlertChecker`) find every condition each round; the call path reports an
account the platform refused (`account_expired`) and a user's accounts all out of quota
(`accounts_exhausted`) the moment it meets them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import utcnow
from app.models import Alert, PlatformConfig, User
from app.schemas.alert import AlertKind
from app.services import account_health
from app.services.alerts import budget_alerts, store, webhook
from app.services.alerts.checks import exhausted_message, exhausted_subject, expired_condition
from app.services.context import AppContext
from app.services.quota.budget_ledger import Held

logger = logging.getLogger(__name__)


async def account_expired(ctx: AppContext, user_id: int, account_id: int) -> None:
    """The platform refused the account's credential and it could not be renewed. Like
    `accounts_exhausted`: once, in its own transaction, after yours has committed; never raises."""

    async def condition(session: AsyncSession) -> store.Condition | None:
        found = await account_health.load(session, utcnow(), user_id=user_id)
        account = next((h for h in found if h.account_id == account_id), None)
        username = await session.scalar(select(User.username).where(User.id == user_id))
        return expired_condition(account, username or str(user_id)) if account else None

    await _raise_now(ctx, "account_expired", f"account:{account_id}", condition)


async def accounts_exhausted(
    ctx: AppContext, user_id: int, platform_id: str, until: datetime | None
) -> None:
    """Every enabled, unexpired account `user_id` has on `platform_id` is out of quota — whole
    accounts, not one model, nor merely resting — until `until` (when known).

    Raises the alert (once: while it is open, further reports cost one indexed read) in a
    transaction of its own, so call it when your own transaction has committed: on SQLite a
    second writer waits for the first. The webhook is sent in the background. Never raises.
    """
    subject = exhausted_subject(user_id, platform_id)

    async def condition(session: AsyncSession) -> store.Condition | None:
        username = await session.scalar(select(User.username).where(User.id == user_id))
        platform_name = await session.scalar(
            select(PlatformConfig.platform_name).where(PlatformConfig.platform_id == platform_id)
        )
        return store.Condition(
            "accounts_exhausted",
            subject,
            exhausted_message(username or str(user_id), platform_name or platform_id, until),
            platform_id=platform_id,
            user_id=user_id,
        )

    await _raise_now(ctx, "accounts_exhausted", subject, condition)


async def budget_reached(ctx: AppContext, user_id: int, held: Held, level: int) -> None:
    """An answered call took a budget of `user_id` (or of their API key) to `level` percent of
    its limit (budget_ledger.passed_level marked it, once per period). Like
    `accounts_exhausted`: in its own transaction, never raises."""

    async def condition(session: AsyncSession) -> store.Condition | None:
        return await budget_alerts.condition(session, user_id, held, level)

    await _raise_now(ctx, "budget_reached", budget_alerts.subject(held, level), condition)


async def _raise_now(
    ctx: AppContext,
    kind: AlertKind,
    subject: str,
    condition: Callable[[AsyncSession], Awaitable[store.Condition | None]],
) -> None:
    """Raise the alert unless it is open already, and send it to the webhook in the background."""
    try:
        async with ctx.factory() as session:
            key = store.open_key(kind, subject)
            if await session.scalar(select(Alert.id).where(Alert.open_key == key)):
                return
            wanted = await condition(session)
        raised = await store.raise_alert(ctx.factory, wanted) if wanted else None
    except Exception:  # an alert must never break the call that noticed it
        logger.exception("raising the %s alert failed", kind)
        return
    if raised is not None:
        url = ctx.settings.alert_webhook_url
        webhook.deliver_soon(
            ctx.http, url.get_secret_value() if url else None, [("alert.raised", raised)]
        )
