"""Where budgets stand in their current periods, as the API keys' and users' pages show them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.schemas.budgets import BudgetUse
from app.services.quota import budget_ledger, budgets
from app.services.quota.budgets import Owner


async def standing(
    session: AsyncSession,
    owner: Owner,
    limits_of: dict[int, dict[str, Any] | None],
    now: datetime,
) -> dict[int, list[BudgetUse]]:
    """Each owner's budgets (from its limits), with what they have used and hold now."""
    found = {owner_id: budgets.of(owner, owner_id, lim) for owner_id, lim in limits_of.items()}
    periods = {b.period(now) for owned in found.values() for b in owned}
    books = await budget_ledger.standings(session, owner, list(found), periods)
    return {
        owner_id: [
            BudgetUse(
                budget=b.name,
                limit=b.shown,
                used=b.amount(stand.used),
                reserved=b.amount(stand.reserved),
                resets_at=b.resets_at(now).isoformat(),
            )
            for b in owned
            for stand in [books.get((*b.key, b.period(now)), budget_ledger.Standing())]
        ]
        for owner_id, owned in found.items()
    }
