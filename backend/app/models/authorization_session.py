"""Authorization sessions: one attempt to bind an account by OAuth, device code or browser.

Stored server-side so that any worker or instance can serve the callback. `state` is the
random (256-bit) key the user's browser carries; it is single-use and expires.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import UTCDateTime
from app.models.base import Base, BigIntId, TimestampMixin


class AuthorizationSession(TimestampMixin, Base):
    __tablename__ = "authorization_sessions"
    __table_args__ = (Index("idx_auth_sessions_status_poll", "status", "next_poll_at"),)

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    platform_id: Mapped[str] = mapped_column(String(50), nullable=False)
    account_name: Mapped[str] = mapped_column(String(100), nullable=False)
    method: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(24), nullable=False, default="pending")
    """pending, needs_user_action, completing, completed, failed or expired."""
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    secret: Mapped[str | None] = mapped_column(Text)
    """Encrypted JSON: the PKCE verifier or the device code — never readable from the API."""
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """What the user is shown: user_code, verification_uri, a prompt, progress."""
    interval_s: Mapped[int | None] = mapped_column(Integer)
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    account_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("oauth_accounts.id", ondelete="SET NULL")
    )
    error: Mapped[str | None] = mapped_column(String(500))
    browser_binding: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 of the cookie set on the browser that started an OAuth authorization; the
    callback finishes it at once only in that browser (RFC 9700 §4.7)."""
