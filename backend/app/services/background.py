"""Background jobs of one process: the token refresher, the alert checks, the sweeper (of quota
holds left by calls that died, and of authorization sessions past their expiry), and the device
poller.

The token refresher, the alert checks and the sweeper run in one process at a time across
workers and instances: each round starts only in the process that holds (or takes over) the
job's lease in the database. Device polls are many small units, each claimed in the database
before it is done, so every process may run that job.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from app.core.database import session_scope, unavailable, utcnow
from app.services import leases
from app.services.alerts.checks import AlertChecker
from app.services.context import AppContext
from app.services.oauth import authorization_sessions, device_sessions
from app.services.quota import ledger

logger = logging.getLogger(__name__)

DEVICE_POLL_TICK_S = 1.0
HOLD_SWEEP_S = 60.0
MIN_LEASE_S = 30.0
"""A lease outlives a few of its job's periods (and at least this), so a round that runs long
is not taken over, while a holder that died is replaced within that time."""


def lease_ttl(period_s: float) -> timedelta:
    return timedelta(seconds=max(3 * period_s, MIN_LEASE_S))


class BackgroundJobs:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.holder = leases.new_holder()
        self.alerts = AlertChecker(ctx)
        self._tasks: list[asyncio.Task[None]] = []
        self._leased: list[str] = []

    def start(self) -> None:
        settings = self.ctx.settings
        self._tasks = [
            asyncio.create_task(
                self._every(DEVICE_POLL_TICK_S, "device poller", self._poll_devices)
            ),
            self._start_leased(
                "token-refresher",
                float(settings.token_refresh_interval),
                self.ctx.renewer.renew_due,
            ),
            self._start_leased("alert-checks", settings.alert_check_interval, self.alerts.run),
            self._start_leased("hold-sweeper", HOLD_SWEEP_S, self.sweep),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for name in self._leased:
            try:
                await leases.release(self.ctx.factory, name, self.holder)
            except Exception:  # shutting down: the lease simply runs out instead
                logger.exception("releasing the %s lease failed", name)
        self._leased = []

    def _start_leased(
        self, name: str, period_s: float, job: Callable[[], Awaitable[int]]
    ) -> asyncio.Task[None]:
        ttl = lease_ttl(period_s)

        async def round_if_held() -> int:
            if not await leases.hold(self.ctx.factory, name, self.holder, ttl):
                return 0
            return await job()

        self._leased.append(name)
        return asyncio.create_task(self._every(period_s, name, round_if_held))

    async def sweep(self) -> int:
        return await self.sweep_holds() + await self.end_overdue_sessions()

    async def end_overdue_sessions(self) -> int:
        async with session_scope(self.ctx.factory) as session:
            return await authorization_sessions.end_overdue(session, utcnow())

    async def sweep_holds(self) -> int:
        """Give back the reservations of calls whose worker died, once they expire, so that the
        quota shown and `most_remaining` see them free before the account next looks full."""
        async with session_scope(self.ctx.factory) as session:
            return await ledger.sweep(session, utcnow())

    async def _poll_devices(self) -> int:
        return await device_sessions.poll_device_sessions(self.ctx)

    @staticmethod
    async def _every(period_s: float, name: str, job: Callable[[], Awaitable[int]]) -> None:
        while True:
            await asyncio.sleep(period_s)
            try:
                await job()
            except Exception as exc:  # a failing round must not end the job
                if unavailable(exc):  # said once a round, without a traceback each second
                    logger.warning("%s round skipped: the database is unavailable", name)
                else:
                    logger.exception("%s round failed", name)
