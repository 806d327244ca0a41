"""The seed's `oauth_accounts`: one bound platform account of one user.

Secret columns (`cookies`, `access_token`, `refresh_token`, `secret_extra`) hold only ciphertext
written by `app.services.oauth.credential_store`; they are Text rather than the seed's
VARCHAR(500) because AES-GCM and base64 make a long token longer than 500 characters.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import UTCDateTime
from app.models.base import Base, BigIntId, TimestampMixin


class OAuthAccount(TimestampMixin, Base):
    __tablename__ = "oauth_accounts"
    __table_args__ = (
        Index("idx_user_platform", "user_id", "platform_id"),
        Index("idx_active", "is_active", "is_expired"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    platform_id: Mapped[str] = mapped_column(String(50), nullable=False)
    account_name: Mapped[str | None] = mapped_column(String(100))
    cookies: Mapped[Any | None] = mapped_column(JSON)
    access_token: Mapped[str | None] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    quota_used: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    quota_limit: Mapped[int | None] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true(), nullable=False
    )
    is_expired: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Beyond the seed.
    auth_method: Mapped[str] = mapped_column(String(20), default="api_key", nullable=False)
    credential_hint: Mapped[str | None] = mapped_column(String(40))
    """A masked hint such as `sk-…a1b2`: never enough to use the credential."""
    secret_extra: Mapped[str | None] = mapped_column(Text)
    """Encrypted JSON of further secrets (AK/SK pairs, browser storage state)."""
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Non-secret per-account options (region base URL, organization, project)."""
    status_reason: Mapped[str | None] = mapped_column(String(255))
    """Why the account is expired or failing, in words for its owner."""
    refresh_lock_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Held by the one worker renewing the credential, so concurrent renewals collapse."""
    exhausted_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Out of quota on every model until then (the platform's reset); the call path skips it."""
