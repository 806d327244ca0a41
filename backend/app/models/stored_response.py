"""Responses API answers kept for their user (`store`, the default): read back, listed by input,
deleted, and continued with `previous_response_id`, until RESPONSES_RETENTION_DAYS have passed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import UTCDateTime, utcnow
from app.models.base import Base, BigIntId


class StoredResponse(Base):
    __tablename__ = "stored_responses"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    response: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    """The `response` object as it was answered."""
    input_items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    """Every input item the answer was made from: the earlier turns of its conversation, then
    the request's own."""
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.current_timestamp(), nullable=False
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
