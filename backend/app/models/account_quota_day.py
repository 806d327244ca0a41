"""Each account's daily token ledger: what its quota day has used and what calls in flight hold.

One row per (account, quota day). A call reserves its estimate with one conditional UPDATE
(`used + reserved < limit`), so concurrent calls never push an account past its limit by more
than one call's estimate, on every database; settling moves the hold to `used_tokens` in the same
transaction that records the call's usage. `day` is the platform's quota day, so a new day is a
new row and the daily reset needs no job.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import UTCDateTime, utcnow
from app.models.base import Base, BigIntId


class AccountQuotaDay(Base):
    __tablename__ = "account_quota_days"

    account_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("oauth_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    used_tokens: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0", nullable=False
    )
    reserved_tokens: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0", nullable=False
    )
    """Estimates held by calls in flight (see QuotaHold)."""
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.current_timestamp(), nullable=False
    )
