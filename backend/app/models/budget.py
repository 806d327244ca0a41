"""The books of budgets (per API key and per user): what each budget's period has used and holds
reserved, and the reservations of calls in flight (services/quota/budget_ledger.py).

A budget is named by its owner (`key` or `user` and its id), what it counts (`tokens_per_day`, or
`cost_per_month:<currency>` in 1e-12 of the currency) and the first day of its period.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, SmallInteger, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import UTCDateTime, utcnow
from app.models.base import Base, BigIntId


class BudgetPeriod(Base):
    __tablename__ = "budget_periods"

    owner: Mapped[str] = mapped_column(String(8), primary_key=True)
    owner_id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    budget: Mapped[str] = mapped_column(String(40), primary_key=True)
    period: Mapped[date] = mapped_column(Date, primary_key=True)
    used: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", nullable=False)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", nullable=False)
    alerted: Mapped[int] = mapped_column(
        SmallInteger, default=0, server_default="0", nullable=False
    )
    """The highest share (percent: 0, 80 or 100) of the budget an alert was raised for."""
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.current_timestamp(), nullable=False
    )


class BudgetHold(Base):
    """One call's reservation on a budget's period: given back by whoever deletes the row (the
    call's books, its failure, or the sweeper once it expires), so exactly once."""

    __tablename__ = "budget_holds"
    __table_args__ = (Index("ix_budget_holds_expires_at", "expires_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(8), nullable=False)
    owner_id: Mapped[int] = mapped_column(BigIntId, nullable=False)
    budget: Mapped[str] = mapped_column(String(40), nullable=False)
    period: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
