"""Delivering alerts to ALERT_WEBHOOK_URL: one JSON POST per alert raised or resolved, through the
app's shared HTTP client, with a few bounded retries. A delivery that fails is logged and
counted, never raised: the checks and the call path go on regardless.

The URL may carry the receiver's token (Slack, WeCom and Feishu hooks do), so it is never logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Literal

import httpx

from app.core.metrics import ALERT_NOTIFICATIONS
from app.core.outbound import AddressRefused
from app.models import Alert
from app.schemas.alert import AlertEvent, AlertOut

logger = logging.getLogger(__name__)

ATTEMPTS = 3
BACKOFF_S = 1.0
"""Wait before the second attempt, doubled before each further one."""
TIMEOUT_S = 10.0

Event = Literal["alert.raised", "alert.resolved"]

_background: set[asyncio.Task[None]] = set()


def payload(event: Event, alert: Alert) -> dict[str, object]:
    return AlertEvent(event=event, alert=AlertOut.model_validate(alert)).model_dump(mode="json")


async def deliver(
    http: httpx.AsyncClient, url: str | None, events: Iterable[tuple[Event, Alert]]
) -> None:
    """POST each event in turn (in order: a resolution never overtakes its raise). Once one has
    failed every attempt the receiver is taken to be down and the rest are not tried, so a
    round of checks stays short; the alerts themselves stay listed in the API."""
    if not url:
        return
    pending = list(events)
    for index, (event, alert) in enumerate(pending):
        if not await _post(http, url, payload(event, alert)):
            ALERT_NOTIFICATIONS.labels("failed").inc(len(pending) - index)
            logger.warning("alert webhook failed: %d alert event(s) not sent", len(pending) - index)
            return
        ALERT_NOTIFICATIONS.labels("delivered").inc()
        logger.info("alert %s %s: webhook delivered", alert.id, event)


def deliver_soon(
    http: httpx.AsyncClient, url: str | None, events: list[tuple[Event, Alert]]
) -> None:
    """Deliver in the background, so a caller (the call path) never waits on the receiver."""
    if not url or not events:
        return
    task = asyncio.create_task(deliver(http, url, events))
    _background.add(task)  # a strong reference until done: the loop only keeps weak ones
    task.add_done_callback(_background.discard)


async def drain(timeout_s: float) -> None:
    """Give background deliveries a moment to finish (at shutdown)."""
    if _background:
        await asyncio.wait(set(_background), timeout=timeout_s)


async def _post(http: httpx.AsyncClient, url: str, body: dict[str, object]) -> bool:
    for attempt in range(ATTEMPTS):
        if attempt:
            await asyncio.sleep(BACKOFF_S * 2 ** (attempt - 1))
        try:
            response = await http.post(url, json=body, timeout=TIMEOUT_S)
        except httpx.HTTPError as exc:
            logger.warning("alert webhook unreachable: %s", type(exc).__name__)
            continue
        except AddressRefused:
            logger.warning("alert webhook refused: its host resolves to a private address")
            return False
        if response.is_success:
            return True
        logger.warning("alert webhook answered %s", response.status_code)
        if response.status_code < 500 and response.status_code not in (408, 429):
            return False  # the receiver refuses this body: sending it again changes nothing
    return False
