"""Background jobs of one process: the token refresher, the alert checks, the sweeper (of quota
holds left by calls that died, of authorization sessions past their expiry, of the seed's
`quota_used` at a new quota day, and of the request log's rows past REQUEST_LOG_RETENTION_DAYS),
and the device poller.

The token refresher, the alert checks and the sweeper run in one process at a time across
workers and instances: the one holding the job's lease in the database (services/leases.py).
Every process tries for each lease every third of JOB_LEASE_SECONDS, which renews it for its
holder; a process that takes a lease runs a round at once, then one every period. A holder that
died is replaced within 4/3 of a lease, so an expired hold is given back within
`hold_return_bound_s` of its expiry whichever process dies. Device polls are many small units,
each claimed in the database before it is done, so every process may run that job.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import retried, unavailable, utcnow
from app.services import leases
from app.services.alerts.checks import AlertChecker
from app.services.calls import usage
from app.services.context import AppContext
from app.services.oauth import authorization_sessions, device_sessions, session_endings
from app.services.quota import budget_ledger, ledger
from app.services.request_log import store as request_log

Sweep = Callable[[AsyncSession, datetime], Awaitable[int]]

logger = logging.getLogger(__name__)

DEVICE_POLL_TICK_S = 1.0
SWEEP_RETRY_S = 10.0
Job = Callable[[], Awaitable[int]]


def hold_return_bound_s(sweep_interval_s: float, lease_s: float) -> float:
    """How long after its expiry a hold is given back at the latest: the sweep's period, plus
    the time a dead holder's lease takes to lapse and be taken over (a lease, and the third of
    one between tries); the new holder sweeps at once."""
    return sweep_interval_s + lease_s * 4 / 3


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
            asyncio.create_task(_every(DEVICE_POLL_TICK_S, "device poller", self._poll_devices)),
            self._start_leased(
                "token-refresher",
                float(settings.token_refresh_interval),
                self.ctx.renewer.renew_due,
            ),
            self._start_leased("alert-checks", settings.alert_check_interval, self.alerts.run),
            self._start_leased("hold-sweeper", settings.hold_sweep_seconds, self.sweep),
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

    def _start_leased(self, name: str, period_s: float, job: Job) -> asyncio.Task[None]:
        lease = LeasedJob(self, name, period_s, job)
        self._leased.append(name)
        return asyncio.create_task(lease.run())

    async def sweep(self) -> int:
        swept = await self.sweep_holds()
        jobs = (
            authorization_sessions.end_overdue,
            usage.align_quota_used,
            self._prune_ended,
            self._prune_request_log,
        )
        for job in jobs:
            swept += await self._in_transaction(job)
        return swept

    async def _in_transaction(self, job: Callable[[AsyncSession, datetime], Awaitable[int]]) -> int:
        async def run(session: AsyncSession, _again: bool) -> int:
            return await job(session, utcnow())

        return await retried(self.ctx.factory, run, within_s=SWEEP_RETRY_S)

    async def prune_ended_sessions(self) -> int:
        return await self._in_transaction(self._prune_ended)

    async def _prune_ended(self, session: AsyncSession, now: datetime) -> int:
        retention = timedelta(seconds=self.ctx.settings.oauth_session_retention_seconds)
        return await session_endings.prune_ended(session, now - retention)

    async def _prune_request_log(self, session: AsyncSession, now: datetime) -> int:
        return await request_log.prune(session, now, self.ctx.settings.request_log_retention_days)

    async def sweep_holds(self) -> int:
        """Give back the reservations of calls whose worker died (on accounts' quota and on
        budgets), once they expire, so that the quota shown and `most_remaining` see them free
        before the account next looks full: a batch at a time, each its own transaction, until
        none is left."""
        swept = 0
        for sweep in (ledger.sweep, budget_ledger.sweep):

            async def batch(session: AsyncSession, _again: bool, sweep: Sweep = sweep) -> int:
                return await sweep(session, utcnow())

            while True:
                given_back = await retried(self.ctx.factory, batch, within_s=SWEEP_RETRY_S)
                swept += given_back
                if given_back < ledger.SWEEP_BATCH:
                    break
        return swept

    async def _poll_devices(self) -> int:
        return await device_sessions.poll_device_sessions(self.ctx)


class LeasedJob:
    """One leased job in this process: tries for (or renews) its lease every third of a lease,
    and while it holds it runs a round at once and then every `period_s`, each in a task of its
    own so that a long round does not hold up the renewals (a round still running when the next
    is due makes that one skip)."""

    def __init__(self, jobs: BackgroundJobs, name: str, period_s: float, job: Job) -> None:
        self.jobs = jobs
        self.name = name
        self.period_s = period_s
        self.job = job
        self.lease = timedelta(seconds=jobs.ctx.settings.job_lease_seconds)
        self._round: asyncio.Task[None] | None = None

    async def run(self) -> None:
        renew_s = self.lease.total_seconds() / 3
        renew_at = time.monotonic()
        round_at: float | None = None  # the next round while the lease is held; None: not held
        try:
            while True:
                now = time.monotonic()
                if now >= renew_at:
                    renew_at = now + renew_s
                    if not await self._hold():
                        round_at = None
                    elif round_at is None:
                        round_at = now
                if round_at is not None and now >= round_at:
                    round_at = now + self.period_s
                    if self._round is None or self._round.done():
                        self._round = asyncio.create_task(_logged(self.name, self.job))
                wake = renew_at if round_at is None else min(renew_at, round_at)
                await asyncio.sleep(max(0.0, wake - time.monotonic()))
        finally:
            if self._round is not None:
                self._round.cancel()
                await asyncio.gather(self._round, return_exceptions=True)

    async def _hold(self) -> bool:
        try:
            return await leases.hold(self.jobs.ctx.factory, self.name, self.jobs.holder, self.lease)
        except Exception as exc:  # not held meanwhile: another process may take it over
            _log_failure(f"{self.name} lease", exc)
            return False


async def _every(period_s: float, name: str, job: Job) -> None:
    while True:
        await asyncio.sleep(period_s)
        await _logged(name, job)


async def _logged(name: str, job: Job) -> None:
    """A round of the job; a failing round must not end the job."""
    try:
        await job()
    except Exception as exc:
        _log_failure(f"{name} round", exc)


def _log_failure(what: str, exc: Exception) -> None:
    if unavailable(exc):  # said once a round, without a traceback each second
        logger.warning("%s skipped: the database is unavailable", what)
    else:
        logger.exception("%s failed", what)
