"""Recording what each call used: tokens per account, model and quota day, and on the account
`last_used_at` and the seed's `quota_used`.

Counters are bumped with one upsert (INSERT … ON CONFLICT / ON DUPLICATE KEY UPDATE adding to the
stored values), so concurrent calls on one account never lose an increment and no row needs to
exist beforehand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.upsert import upsert
from app.models import AccountQuotaDay, AccountUsage, OAuthAccount, PlatformConfig
from app.schemas.usage import UsageRowOut
from app.services.quota.cost import Cost, from_units, to_units
from app.services.quota.quota_clock import quota_day

_COUNTERS = (
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_tokens",
    "reasoning_tokens",
    "requests",
    "failures",
    "cost_units",
    "free_covered_units",
)


@dataclass(frozen=True)
class TokenUsage:
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    """Of the prompt's tokens, those the platform read from its prompt cache."""
    reasoning_tokens: int = 0
    """Of the answer's tokens, those the model spent thinking."""

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def chat_usage(body: dict[str, Any]) -> TokenUsage:
    """The usage of a `chat.completion` as the call path answers it (responses.usage_body)."""
    cached = (body.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    reasoning = (body.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
    return TokenUsage(
        int(body.get("prompt_tokens") or 0), int(body.get("completion_tokens") or 0),
        int(cached), int(reasoning),
    )  # fmt: skip


def usage_of(obj: Any) -> TokenUsage | None:
    """The usage litellm reports on a response or a stream's last chunk (None if absent or 0)."""
    usage = getattr(obj, "usage", None)
    if usage is None:
        return None
    prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
    completion = int(getattr(usage, "completion_tokens", 0) or 0)
    if prompt == 0 and completion == 0:
        return None
    cached = _detail(usage, "prompt_tokens_details", "cached_tokens")
    reasoning = _detail(usage, "completion_tokens_details", "reasoning_tokens")
    return TokenUsage(prompt, completion, cached, reasoning)


def _detail(usage: Any, part: str, name: str) -> int:
    details = getattr(usage, part, None)
    if isinstance(details, dict):
        return int(details.get(name) or 0)
    return int(getattr(details, name, 0) or 0)


async def add(
    session: AsyncSession,
    account_id: int,
    model: str,
    day: date,
    now: datetime,
    *,
    usage: TokenUsage | None = None,
    requests: int = 0,
    failures: int = 0,
    cost: Cost | None = None,
) -> None:
    """Add tokens, answered requests, failed attempts and their list-price cost (None: the
    model is unpriced) to the (account, model, day) row."""
    values = {
        "prompt_tokens": usage.prompt_tokens if usage else 0,
        "completion_tokens": usage.completion_tokens if usage else 0,
        "total_tokens": usage.total_tokens if usage else 0,
        "cached_tokens": usage.cached_tokens if usage else 0,
        "reasoning_tokens": usage.reasoning_tokens if usage else 0,
        "requests": requests,
        "failures": failures,
        "cost_units": to_units(cost.cost) if cost else None,
        "free_covered_units": to_units(cost.free_covered) if cost else None,
    }
    row = {"account_id": account_id, "model": model[:100], "day": day, "updated_at": now}
    await upsert(
        session,
        AccountUsage.__table__,  # type: ignore[arg-type]
        row | values,
        add=_COUNTERS,
        replace=("updated_at",),
    )


TOUCH_EVERY = timedelta(minutes=1)


class LastUsed:
    """`last_used_at` is written at most once a minute per account by each process: written on
    every call it would make the account's row the hottest one in the database."""

    def __init__(self) -> None:
        self._written: dict[int, datetime] = {}

    def due(self, account_id: int, now: datetime) -> bool:
        last = self._written.get(account_id)
        if last is not None and timedelta(0) <= now - last < TOUCH_EVERY:
            return False
        self._written[account_id] = now
        return True


_USED_ON = func.coalesce(
    select(AccountQuotaDay.used_tokens)
    .where(
        AccountQuotaDay.account_id == OAuthAccount.id,
        AccountQuotaDay.day == bindparam("quota_day"),
    )
    .scalar_subquery(),
    0,
)
"""The account's used tokens on the day bound as `quota_day` (0 when none), correlated to the
oauth_accounts row of the statement it is in."""
_MARK_USED = (
    update(OAuthAccount)
    .where(OAuthAccount.id == bindparam("account"))
    .values(quota_used=_USED_ON)
    .execution_options(synchronize_session=False)
)
_MARK_USED_AND_TOUCHED = _MARK_USED.values(last_used_at=bindparam("touched"))
# Built once, with bound parameters: the books run one per account on every lot, and building
# the statement (its correlated subquery above all) cost more than running it.


async def mark_used(
    session: AsyncSession, account_id: int, day: date, now: datetime | None
) -> None:
    """The seed's `oauth_accounts.quota_used` set to the account's tokens on its quota day (the
    ledger's figure, just written in this transaction), and `last_used_at` when `now` is given:
    one statement, written with the books."""
    params: dict[str, Any] = {"account": account_id, "quota_day": day}
    if now is None:
        await session.execute(_MARK_USED, params)
    else:
        await session.execute(_MARK_USED_AND_TOUCHED, params | {"touched": now})


async def align_quota_used(session: AsyncSession, now: datetime) -> int:
    """Every account's `quota_used` set to its tokens on its platform's current quota day where
    it is not: a new quota day starts at 0 before any call is booked on it (the sweeper's round).

    The figures are read without locks and each account is then set only if its `quota_used` is
    still what was read, in id order: an UPDATE reading the day rows itself would lock them after
    the accounts, against the ledger's lock order (the books lock a day row, then its account),
    and MariaDB then chooses one of the two as a deadlock's victim."""
    aligned = 0
    for platform in list(await session.scalars(select(PlatformConfig))):
        day = quota_day(platform, now)
        stale = await session.execute(
            select(OAuthAccount.id, OAuthAccount.quota_used, _USED_ON)
            .where(OAuthAccount.platform_id == platform.platform_id)
            .where(OAuthAccount.quota_used != _USED_ON)
            .order_by(OAuthAccount.id),
            {"quota_day": day},
        )
        for account_id, seen, used in stale.all():
            result = await session.execute(
                update(OAuthAccount)
                .where(OAuthAccount.id == account_id, OAuthAccount.quota_used == seen)
                .values(quota_used=used)
                .execution_options(synchronize_session=False)
            )
            aligned += int(getattr(result, "rowcount", 0) or 0)
    return aligned


async def usage_rows(session: AsyncSession, user_id: int, since: date) -> list[UsageRowOut]:
    """The user's usage per account, model and day from `since` on, oldest first."""
    rows = await session.execute(
        select(AccountUsage, OAuthAccount.account_name, OAuthAccount.platform_id, PlatformConfig)
        .join(OAuthAccount, OAuthAccount.id == AccountUsage.account_id)
        .outerjoin(PlatformConfig, PlatformConfig.platform_id == OAuthAccount.platform_id)
        .where(OAuthAccount.user_id == user_id, AccountUsage.day >= since)
        .order_by(AccountUsage.day, AccountUsage.account_id, AccountUsage.model)
    )
    return [
        UsageRowOut(
            day=row.day,
            account_id=row.account_id,
            account_name=account_name,
            platform_id=platform_id,
            platform_name=platform.platform_name if platform else platform_id,
            model=row.model,
            prompt_tokens=row.prompt_tokens,
            completion_tokens=row.completion_tokens,
            total_tokens=row.total_tokens,
            cached_tokens=row.cached_tokens,
            reasoning_tokens=row.reasoning_tokens,
            requests=row.requests,
            failures=row.failures,
            cost=from_units(row.cost_units),
            free_covered=from_units(row.free_covered_units),
            currency=(platform.pricing or {}).get("currency") if platform else None,
        )
        for row, account_name, platform_id, platform in rows
    ]


DEFAULT_COMPLETION_ESTIMATE = 1024
"""Tokens reserved for an answer when the caller sets no `max_tokens`."""


def estimate(messages: list[dict[str, Any]], params: dict[str, Any]) -> int:
    """A generous guess of a call's tokens, reserved before it runs: half a token per byte of
    the prompt (over-counting English and Chinese alike) plus the longest answer allowed."""
    prompt = sum(len(str(m.get("content") or "").encode()) // 2 + 4 for m in messages)
    answer = params.get("max_completion_tokens") or params.get("max_tokens")
    per_choice = int(answer) if answer else DEFAULT_COMPLETION_ESTIMATE
    return prompt + per_choice * int(params.get("n") or 1)
