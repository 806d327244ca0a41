"""The request log: one row per model call on any surface — who asked for what, what served it,
how it ended and how long it took. Never the prompt or the answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import UTCDateTime, utcnow
from app.models.base import Base, BigIntId


class RequestLog(Base):
    __tablename__ = "request_log"
    __table_args__ = (
        Index("idx_request_log_user", "user_id", "id"),
        Index("idx_request_log_account", "account_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.current_timestamp(), nullable=False,
        index=True,
    )  # fmt: skip
    """When the call came in."""
    user_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    surface: Mapped[str] = mapped_column(String(100), nullable=False)
    """The endpoint called, as its route reads (`/v1/chat/completions`)."""
    model_asked: Mapped[str | None] = mapped_column(String(200))
    route: Mapped[str | None] = mapped_column(String(100))
    platform_id: Mapped[str | None] = mapped_column(String(50))
    model: Mapped[str | None] = mapped_column(String(100))
    """The model that served (or last failed) it."""
    account_id: Mapped[int | None] = mapped_column(BigIntId)
    """No foreign key: the row outlives an account that is removed."""
    status: Mapped[int] = mapped_column(Integer, nullable=False)
    """The HTTP status answered."""
    error_kind: Mapped[str | None] = mapped_column(String(32))
    """The class of the last failure (rate_limited, auth_expired, …; platforms.md §2)."""
    error_code: Mapped[str | None] = mapped_column(String(64))
    """The refusal's `error_code`, or the platform's code of the last failure."""
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    latency_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    first_byte_ms: Mapped[int | None] = mapped_column(Integer)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
