"""The seed's `platform_configs`: everything platform-specific that can be data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, TimestampMixin


class PlatformConfig(TimestampMixin, Base):
    __tablename__ = "platform_configs"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    platform_id: Mapped[str] = mapped_column(String(50), unique=True, nullable=False)
    platform_name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    oauth_config: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    litellm_config: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    quota_config: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pricing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """List prices per model (app/schemas/pricing.py)."""
    is_enabled: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true(), nullable=False
    )
