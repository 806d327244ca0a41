"""Which of the caller's accounts may serve a call now, and in what order they are tried.

An account may serve when its status for the model (`account_status`) is active: enabled, not
expired, not exhausted, not resting from this model (a rest that is a per-model quota counts here
too). The platform's `quota_config.strategy` orders the candidates:

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

from app.models import OAuthAccount, PlatformConfig
from app.services.account_status import CallState, Cooldown, status_of
from app.services.quota.ledger import DayTotals

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
    cooldowns: dict[int, list[Cooldown]],
    totals: dict[int, DayTotals],
    platform: PlatformConfig,
    model: str,
    now: datetime,
) -> Availability:
    """Sort the accounts of one platform by whether they may serve `model` now; `totals` are
    today's ledger figures of the accounts that have a daily limit."""
    found = Availability()
    for account in accounts:
        rests = cooldowns.get(account.id, [])
        state = CallState(totals.get(account.id, DayTotals()), rests)
        status = status_of(account, platform, state, now, model=model)
        if status.status == "disabled":
            found.disabled += 1
        elif status.status == "expired":
            found.expired.append(account)
        elif status.reset_at is not None and status.reason is not None:  # exhausted or cooling
            found.wait(account, status.reset_at, status.reason)
            if status.status == "exhausted":
                found.spent.add(account.id)
        else:
            if account.exhausted_until is not None:
                found.stale_exhaustion.add(account.id)
            if any(c.model == model[:100] for c in rests):
                found.stale_cooldowns.add(account.id)
            found.usable.append(account)
            found.remaining[account.id] = status.remaining
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
