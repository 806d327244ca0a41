"""Budget alerts: a budget of an API key or a user has reached 80% or 100% of its limit in its
period — raised by the call whose books took it there (calls/budget_gate.py), once per period
and level, and resolved by the alert checks once the period is over.

    subject   <owner>:<owner id>:<budget>:<period's first day>:<level>   e.g.
              key:12:tokens_per_day:2026-12-04:80, user:7:cost_per_month:CNY:2026-12-01:100
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import Alert, ApiKey, User
from app.services.alerts import store, webhook
from app.services.alerts.store import Condition
from app.services.quota.budget_ledger import Held
from app.services.quota.budgets import Budget


def subject(held: Held, level: int) -> str:
    budget = held.budget
    return f"{budget.owner}:{budget.owner_id}:{budget.name}:{held.period.isoformat()}:{level}"


async def condition(session: AsyncSession, user_id: int, held: Held, level: int) -> Condition:
    budget = held.budget
    username = await session.scalar(select(User.username).where(User.id == user_id))
    whose = f"{username or user_id}: the"
    if budget.owner == "key":
        name = await session.scalar(select(ApiKey.name).where(ApiKey.id == budget.owner_id))
        whose = f"API key “{name}” (#{budget.owner_id}) of {username or user_id}: its"
    resets = budget.resets_at(datetime.combine(held.period, time(), UTC))
    return Condition(
        "budget_reached",
        subject(held, level),
        f"{whose} budget of {budget.limit_text()} is {level}% used "
        f"(until {resets:%Y-%m-%d %H:%M} UTC).",
        user_id=user_id,
    )


def ended(alert: Alert, now: datetime) -> bool:
    """Whether the budget period the alert is about is over."""
    owner, owner_id, *name, period, _level = alert.subject.split(":")
    budget = Budget(owner, int(owner_id), ":".join(name), 0, "")  # type: ignore[arg-type]
    start = datetime.combine(date.fromisoformat(period), time(), UTC)
    return budget.resets_at(start) <= now


async def resolve_ended(
    factory: async_sessionmaker[AsyncSession], now: datetime
) -> list[tuple[webhook.Event, Alert]]:
    """Resolve the open budget alerts whose period is over."""
    async with factory() as session:
        open_now = await store.open_alerts(session, "budget_reached")
    events: list[tuple[webhook.Event, Alert]] = []
    for alert in open_now:
        if ended(alert, now) and (resolved := await store.resolve(factory, alert.id, now)):
            events.append(("alert.resolved", resolved))
    return events
