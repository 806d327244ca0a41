"""Which of the caller's accounts may serve a call now, and in what order they are tried.

An account may serve when it is enabled, not expired, not exhausted (account-wide, or for this
model), not cooling down for this model, and has some of its daily tokens left (used + held by
calls in flight under its limit). The platform's `quota_config.strategy` orders the candidates:

    most_remaining  (default) the most tokens left first; unlimited accounts count as full
    round_robin     in turn
    least_busy      the fewest calls in flight first
    fill_first      the oldest account until it is spent, then the next

Ties are broken in turn, so equal accounts share the load. The per-account checks that count
something — requests per minute, the concurrency cap, the reservation — happen when an account is
actually tried (see call_path), so an account is never charged for a call it did not serve.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from app.models import AccountCooldown, OAuthAccount, PlatformConfig
from app.services.quota.ledger import DayTotals
from app.services.quota.quota_clock import daily_limit, next_reset

Strategy = Literal["most_remaining", "round_robin", "least_busy", "fill_first"]
STRATEGIES: tuple[Strategy, ...] = ("most_remaining", "round_robin", "least_busy", "fill_first")


@dataclass(frozen=True)
class Policy:
    """How a platform's accounts are shared, from its `quota_config`."""

    strategy: Strategy = "most_remaining"
    rate_limit: int | None = None
    """Requests per minute per account."""
    max_concurrency: int | None = None
    """Calls in flight per account."""

    @classmethod
    def of(cls, platform: PlatformConfig) -> Policy:
        config = platform.quota_config or {}
        strategy = config.get("strategy")
        return cls(
            strategy=strategy if strategy in STRATEGIES else "most_remaining",
            rate_limit=_positive(config.get("rate_limit")),
            max_concurrency=_positive(config.get("max_concurrency")),
        )

    @property
    def counts_in_flight(self) -> bool:
        return self.max_concurrency is not None or self.strategy == "least_busy"


@dataclass
class Availability:
    usable: list[OAuthAccount] = field(default_factory=list)
    """Accounts that may serve now, by id."""
    remaining: dict[int, int | None] = field(default_factory=dict)
    """Tokens left today per usable account (None: no limit)."""
    waiting_until: datetime | None = None
    """The earliest time an exhausted, resting or busy account may serve again."""
    waiting_reasons: set[str] = field(default_factory=set)
    """Why accounts wait: quota_exhausted, rate_limited, overloaded, busy, held."""
    waits: dict[int, tuple[datetime, str]] = field(default_factory=dict)
    """Each waiting account's end of wait and reason."""
    waiting: int = 0
    disabled: int = 0
    expired: list[OAuthAccount] = field(default_factory=list)
    spent: set[int] = field(default_factory=set)
    """Accounts out of quota as a whole (not for one model, not merely resting)."""
    stale_cooldowns: set[int] = field(default_factory=set)
    """Usable accounts with an ended cooldown row for this model (cleared by a success)."""
    stale_exhaustion: set[int] = field(default_factory=set)
    """Usable accounts whose account-wide exhaustion has ended (cleared by a success)."""

    @property
    def total(self) -> int:
        return len(self.usable) + self.disabled + len(self.expired) + self.waiting

    def wait(self, account: OAuthAccount, until: datetime, reason: str) -> None:
        """Move an account out of the usable ones until `until`."""
        if account in self.usable:
            self.usable.remove(account)
        self.waits[account.id] = (until, reason)
        self.waiting += 1
        self.waiting_reasons.add(reason)
        if self.waiting_until is None or until < self.waiting_until:
            self.waiting_until = until


def availability(
    accounts: list[OAuthAccount],
    cooldowns: dict[int, list[AccountCooldown]],
    totals: dict[int, DayTotals],
    platform: PlatformConfig,
    model: str,
    now: datetime,
) -> Availability:
    """Sort the accounts of one platform by whether they may serve `model` now; `totals` are
    today's ledger figures of the accounts that have a daily limit."""
    found = Availability()
    for account in accounts:
        limit = daily_limit(platform, account.quota_limit)
        day = totals.get(account.id, DayTotals())
        rest = next((c for c in cooldowns.get(account.id, ()) if c.model == model[:100]), None)
        if not account.is_active:
            found.disabled += 1
        elif account.is_expired:
            found.expired.append(account)
        elif account.exhausted_until is not None and account.exhausted_until > now:
            found.wait(account, account.exhausted_until, "quota_exhausted")
            found.spent.add(account.id)
        elif rest is not None and rest.until > now:
            found.wait(account, rest.until, rest.reason)
        elif limit is not None and day.used >= limit:
            found.wait(account, next_reset(platform, now), "quota_exhausted")
            found.spent.add(account.id)
        else:
            if account.exhausted_until is not None:
                found.stale_exhaustion.add(account.id)
            if rest is not None:
                found.stale_cooldowns.add(account.id)
            found.usable.append(account)
            found.remaining[account.id] = (
                None if limit is None else max(0, limit - day.used - day.reserved)
            )
    return found


class Turns:
    """A counter per (user, platform) for taking turns in this process."""

    def __init__(self) -> None:
        self._turns: defaultdict[tuple[int, str], Iterator[int]] = defaultdict(itertools.count)

    def next(self, user_id: int, platform_id: str) -> int:
        return next(self._turns[(user_id, platform_id)])


def order(
    strategy: Strategy,
    usable: list[OAuthAccount],
    remaining: dict[int, int | None],
    busy: dict[int, int],
    turn: int,
    tried: set[int],
) -> list[OAuthAccount]:
    """The usable accounts in the order to try them; those already tried in this call go last
    (a network retry may still reuse one when nothing else is left)."""
    keys: dict[Strategy, Callable[[OAuthAccount], float]] = {
        "round_robin": lambda a: 0,
        "most_remaining": lambda a: -_left(remaining.get(a.id)),
        "least_busy": lambda a: busy.get(a.id, 0),
        "fill_first": lambda a: a.id,
    }
    ranked = []
    for _, group in itertools.groupby(sorted(usable, key=keys[strategy]), key=keys[strategy]):
        tied = list(group)  # equal accounts take turns
        start = turn % len(tied)
        ranked += tied[start:] + tied[:start]
    return [a for a in ranked if a.id not in tried] + [a for a in ranked if a.id in tried]


def _left(remaining: int | None) -> float:
    return float("inf") if remaining is None else float(remaining)


def _positive(value: object) -> int | None:
    return value if isinstance(value, int) and value > 0 else None
