"""Each platform's success rate over a recent window, from the usage counters every call already
keeps: answered calls (`requests`) and failed attempts (`failures`) per account, model and day.

Those counters only grow, in day-sized rows, so the rate over the last N seconds is the
difference between two samples of their totals. The checks take one sample per round and keep
those of the last window; a process that takes the checks over judges from its second round on.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AccountUsage, OAuthAccount

Totals = dict[tuple[str, date], tuple[int, int]]
"""(platform, day) -> (answered, failed)."""


@dataclass(frozen=True)
class Rate:
    answered: int
    failed: int
    span_s: float
    """How many seconds the two samples are apart."""

    @property
    def attempts(self) -> int:
        return self.answered + self.failed

    @property
    def share(self) -> float:
        return self.answered / self.attempts if self.attempts else 1.0


@dataclass(frozen=True)
class _Sample:
    at: float
    totals: Totals


class SuccessRates:
    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._samples: deque[_Sample] = deque()

    async def sample(self, session: AsyncSession, at: float, today: date) -> dict[str, Rate] | None:
        """Take a sample at monotonic time `at`; the rates since the sample that opens the
        window (or the oldest, until one is that old). None on the first sample."""
        # Two days back covers every platform's quota day; days only move forward, so each
        # sample's rows were all within reach of the samples before it.
        self._samples.append(_Sample(at, await _totals(session, today - timedelta(days=2))))
        while len(self._samples) > 2 and at - self._samples[1].at >= self.window_s:
            self._samples.popleft()
        if len(self._samples) < 2:
            return None
        return _rates(self._samples[0], self._samples[-1])


async def _totals(session: AsyncSession, since: date) -> Totals:
    rows = await session.execute(
        select(
            OAuthAccount.platform_id,
            AccountUsage.day,
            func.sum(AccountUsage.requests),
            func.sum(AccountUsage.failures),
        )
        .join(OAuthAccount, OAuthAccount.id == AccountUsage.account_id)
        .where(AccountUsage.day >= since)
        .group_by(OAuthAccount.platform_id, AccountUsage.day)
    )
    return {(p, d): (int(ok or 0), int(failed or 0)) for p, d, ok, failed in rows}


def _rates(old: _Sample, new: _Sample) -> dict[str, Rate]:
    answered: dict[str, int] = {}
    failed: dict[str, int] = {}
    for key, (ok, bad) in new.totals.items():
        before_ok, before_bad = old.totals.get(key, (0, 0))
        platform = key[0]
        # A deleted account takes its rows along: never count that as negative traffic.
        answered[platform] = answered.get(platform, 0) + max(0, ok - before_ok)
        failed[platform] = failed.get(platform, 0) + max(0, bad - before_bad)
    span = new.at - old.at
    return {p: Rate(answered[p], failed[p], span) for p in answered}
