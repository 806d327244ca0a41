"""Alerts: raised when an account expires, when a platform's success rate falls, and when a user's
accounts on a platform are all out of quota; resolved when that clears; sent to the webhook.

The checks (`checks.AlertChecker`) find every condition each round; the call path reports the
last one the moment it meets it, through `accounts_exhausted`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from app.models import Alert, PlatformConfig, User
from app.services.alerts import store, webhook
from app.services.alerts.checks import exhausted_message, exhausted_subject
from app.services.context import AppContext

logger = logging.getLogger(__name__)


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
    try:
        async with ctx.factory() as session:
            key = store.open_key("accounts_exhausted", subject)
            if await session.scalar(select(Alert.id).where(Alert.open_key == key)):
                return
            username = await session.scalar(select(User.username).where(User.id == user_id))
            platform_name = await session.scalar(
                select(PlatformConfig.platform_name).where(
                    PlatformConfig.platform_id == platform_id
                )
            )
        raised = await store.raise_alert(
            ctx.factory,
            store.Condition(
                "accounts_exhausted",
                subject,
                exhausted_message(username or str(user_id), platform_name or platform_id, until),
                platform_id=platform_id,
                user_id=user_id,
            ),
        )
    except Exception:  # an alert must never break the call that noticed it
        logger.exception("raising the accounts_exhausted alert failed")
        return
    if raised is not None:
        url = ctx.settings.alert_webhook_url
        webhook.deliver_soon(
            ctx.http, url.get_secret_value() if url else None, [("alert.raised", raised)]
        )
