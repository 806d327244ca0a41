"""An account resting for one model: rate-limited, overloaded, or out of that model's quota.

One row per (account, model), overwritten by each new failure; an expired row is simply ignored
(and cleared by the next success), so nothing needs a cleanup job. `failures` counts consecutive
failures for the exponential backoff used when the platform gives no retry hint.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import UTCDateTime, utcnow
from app.models.base import Base, BigIntId


class AccountCooldown(Base):
    __tablename__ = "account_cooldowns"

    account_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("oauth_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    reason: Mapped[str] = mapped_column(String(20), nullable=False)
    """rate_limited, overloaded or quota_exhausted."""
    until: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    failures: Mapped[int] = mapped_column(Integer, default=1, server_default="1", nullable=False)
    message: Mapped[str | None] = mapped_column(String(255))
    """The platform's words, for the account's owner."""
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.current_timestamp(), nullable=False
    )
