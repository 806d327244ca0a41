"""Tokens used per account, model and day: the quota's truth, and the seed's `quota_used`.

`day` is the platform's quota day (midnight in its `quota_config.reset_timezone`, Asia/Shanghai
unless the platform says otherwise), so a daily reset needs no job: a new day is a new row.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import UTCDateTime, utcnow
from app.models.base import Base, BigIntId


class AccountUsage(Base):
    __tablename__ = "account_usage"

    account_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("oauth_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    prompt_tokens: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0", nullable=False
    )
    completion_tokens: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0", nullable=False
    )
    total_tokens: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0", nullable=False
    )
    cached_tokens: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0", nullable=False
    )
    """Of the prompt tokens, those the platform read from its prompt cache."""
    reasoning_tokens: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0", nullable=False
    )
    """Of the completion tokens, those the model spent thinking."""
    cost_units: Mapped[int | None] = mapped_column(BigInteger)
    """List-price cost of the tokens in 1e-12 of the platform's `pricing.currency` (fixed point:
    exact, and added exactly by the upsert on every database, SQLite too); NULL: unpriced."""
    free_covered_units: Mapped[int | None] = mapped_column(BigInteger)
    """Of `cost_units`, what the vendor's free tier covered."""
    requests: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    """Answered calls."""
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    """Failed attempts (they charge no tokens)."""
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.current_timestamp(), nullable=False
    )
