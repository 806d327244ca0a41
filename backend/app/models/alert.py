"""Alerts: something an operator or an account's owner should act on, raised and resolved by the
alert checks (and by the call path when a user's accounts on a platform run out of quota).

At most one alert per kind and subject is open: `open_key` holds `<kind>:<subject>` while the
alert is open and NULL once resolved, and a unique index on it (NULLs never collide, on all three
databases) makes a second raise of the same condition a no-op even when two workers race.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import UTCDateTime, utcnow
from app.models.base import Base, BigIntId


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (Index("idx_alerts_user_time", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    """account_expired, success_rate_low, accounts_exhausted or budget_reached."""
    subject: Mapped[str] = mapped_column(String(120), nullable=False)
    """What the alert is about, e.g. `account:42`, `platform:qwen`, `user:7:platform:qwen`."""
    open_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    platform_id: Mapped[str | None] = mapped_column(String(50))
    user_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="CASCADE")
    )
    """The user it concerns; None for a platform-wide alert."""
    account_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("oauth_accounts.id", ondelete="SET NULL")
    )
    message: Mapped[str] = mapped_column(String(500), nullable=False)
    """Names, ids and numbers only: never a credential nor a platform's error text."""
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.current_timestamp(), nullable=False
    )
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
