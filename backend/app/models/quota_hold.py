"""One call's reservation on an account's quota day, until the call settles or releases it.

The row makes a reservation crash-safe: a worker that dies mid-call leaves its hold behind, and
once `expires_at` passes any worker gives the tokens back (deleting the row first, so that a hold
is given back exactly once, by whoever deletes it).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import UTCDateTime
from app.models.base import Base, BigIntId


class QuotaHold(Base):
    __tablename__ = "quota_holds"
    __table_args__ = (Index("ix_quota_holds_expires_at", "expires_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("oauth_accounts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    day: Mapped[date] = mapped_column(Date, nullable=False)
    tokens: Mapped[int] = mapped_column(BigInteger, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
