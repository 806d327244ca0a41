"""Background jobs of one process: the token refresher and the device-code poller.

Every worker may run them: each unit of work (one account's renewal, one device poll) is claimed
in the database first, so several workers or instances never do the same work twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from app.services.oauth import authorization_sessions
from app.services.oauth.context import OAuthContext

logger = logging.getLogger(__name__)

DEVICE_POLL_TICK_S = 1.0


class BackgroundJobs:
    def __init__(self, ctx: OAuthContext) -> None:
        self.ctx = ctx
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(
                self._every(DEVICE_POLL_TICK_S, "device poller", self._poll_devices)
            ),
            asyncio.create_task(
                self._every(
                    float(self.ctx.settings.token_refresh_interval),
                    "token refresher",
                    self.ctx.renewer.renew_due,
                )
            ),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _poll_devices(self) -> int:
        return await authorization_sessions.poll_device_sessions(self.ctx)

    @staticmethod
    async def _every(period_s: float, name: str, job: Callable[[], Awaitable[int]]) -> None:
        while True:
            await asyncio.sleep(period_s)
            try:
                await job()
            except Exception:  # a failing round must not end the job
                logger.exception("%s round failed", name)
