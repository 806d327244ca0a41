"""The request log's rows: written with the books (quota/books.py), read a page at a time for
their user (or for an administrator, everyone's), summed up per account for its health, and
pruned after REQUEST_LOG_RETENTION_DAYS by the sweeper (services/background.py)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Select, case, delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import RequestLog, User
from app.services.request_log.trace import Row

LATENCY_SAMPLE = 20_000
"""At most this many of the day's answered calls give the accounts' median latencies."""


_COLUMNS = tuple(f.name for f in fields(Row))


async def write(session: AsyncSession, rows: Sequence[Row]) -> None:
    """The rows in one statement (in the books' transaction). Each row's values are taken as
    they are: `asdict` deep-copies every value, ~10 µs a row on every call."""
    if rows:
        values = [{name: getattr(row, name) for name in _COLUMNS} for row in rows]
        await session.execute(insert(RequestLog), values)


@dataclass(frozen=True)
class Filters:
    user_id: int | None = None
    """None: everyone's (administrators)."""
    platform_id: str | None = None
    account_id: int | None = None
    status: Literal["ok", "error"] | int | None = None
    since: datetime | None = None
    until: datetime | None = None


def _failed() -> Any:
    return or_(RequestLog.status >= 400, RequestLog.error_kind.is_not(None))


def _filtered(query: Select[Any], filters: Filters) -> Select[Any]:
    conditions = []
    if filters.user_id is not None:
        conditions.append(RequestLog.user_id == filters.user_id)
    if filters.platform_id:
        conditions.append(RequestLog.platform_id == filters.platform_id)
    if filters.account_id is not None:
        conditions.append(RequestLog.account_id == filters.account_id)
    if filters.status == "error":
        conditions.append(_failed())
    elif filters.status == "ok":
        conditions.append(~_failed())
    elif filters.status is not None:
        conditions.append(RequestLog.status == filters.status)
    if filters.since is not None:
        conditions.append(RequestLog.created_at >= filters.since)
    if filters.until is not None:
        conditions.append(RequestLog.created_at < filters.until)
    return query.where(*conditions)


async def page(
    session: AsyncSession, filters: Filters, *, limit: int, before_id: int | None
) -> list[RequestLog]:
    """The newest rows that pass the filters, below `before_id` when given."""
    query = _filtered(select(RequestLog), filters).order_by(RequestLog.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(RequestLog.id < before_id)
    return list(await session.scalars(query))


async def usernames(session: AsyncSession, rows: Sequence[RequestLog]) -> dict[int, str]:
    """The names of the rows' users (an administrator reads everyone's calls)."""
    ids = {row.user_id for row in rows}
    if not ids:
        return {}
    found = await session.execute(select(User.id, User.username).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in found}


async def prune(session: AsyncSession, now: datetime, days: int) -> int:
    """Delete the rows older than `days`; how many went."""
    result = await session.execute(
        delete(RequestLog).where(RequestLog.created_at < now - timedelta(days=days))
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class AccountCalls:
    """An account's calls over the last day, and its last failure ever logged."""

    calls: int = 0
    succeeded: int = 0
    median_latency_ms: int | None = None
    last_error: RequestLog | None = None

    @property
    def success_rate(self) -> float | None:
        return self.succeeded / self.calls if self.calls else None


async def account_calls(
    session: AsyncSession, account_ids: list[int], since: datetime
) -> dict[int, AccountCalls]:
    """Each account's calls since `since` (in three queries for the whole list)."""
    if not account_ids:
        return {}
    ours = RequestLog.account_id.in_(account_ids)
    ok = ~_failed()
    counted: dict[int | None, tuple[int, int]] = {
        account_id: (calls, int(succeeded or 0))
        for account_id, calls, succeeded in await session.execute(
            select(RequestLog.account_id, func.count(), func.sum(case((ok, 1), else_=0)))
            .where(ours, RequestLog.created_at >= since)
            .group_by(RequestLog.account_id)
        )
    }
    latencies: dict[int | None, list[int]] = {}
    for account_id, latency in await session.execute(
        select(RequestLog.account_id, RequestLog.latency_ms)
        .where(ours, RequestLog.created_at >= since, ok)
        .order_by(RequestLog.id.desc())
        .limit(LATENCY_SAMPLE)
    ):
        latencies.setdefault(account_id, []).append(latency)
    last_ids = (
        select(func.max(RequestLog.id)).where(ours, _failed()).group_by(RequestLog.account_id)
    )
    errors = {
        row.account_id: row
        for row in await session.scalars(select(RequestLog).where(RequestLog.id.in_(last_ids)))
    }
    found: dict[int, AccountCalls] = {}
    for account_id in account_ids:
        calls, succeeded = counted.get(account_id, (0, 0))
        sample = latencies.get(account_id)
        median = round(statistics.median(sample)) if sample else None
        found[account_id] = AccountCalls(calls, succeeded, median, errors.get(account_id))
    return found
