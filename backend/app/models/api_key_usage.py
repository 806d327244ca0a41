"""Tokens, answered calls and list-price cost per API key, platform, model and quota day: what a
key spent, for the summary per key and for the key's budgets."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import UTCDateTime, utcnow
from app.models.base import Base, BigIntId


class ApiKeyUsage(Base):
    __tablename__ = "api_key_usage"

    api_key_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    platform_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    total_tokens: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0", nullable=False
    )
    requests: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    cost_units: Mapped[int | None] = mapped_column(BigInteger)
    """List-price cost in 1e-12 of the platform's currency (as `account_usage`); NULL: unpriced."""
    free_covered_units: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.current_timestamp(), nullable=False
    )
