"""Per-user API keys for the OpenAI-compatible API: shown once, stored only as a SHA-256 hash.

A key is 256 random bits, so a fast unsalted hash is enough: nobody can guess their way back from
it, and a lookup by hash stays one indexed query per request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import UTCDateTime, utcnow
from app.models.base import Base, BigIntId


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    prefix: Mapped[str] = mapped_column(String(40), nullable=False)
    """What the owner sees of the key (`op-AbCd…a1b2`): enough to recognise it, not to use it."""
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.current_timestamp(), nullable=False
    )
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    limits: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """What calls with the key may use (app/schemas/api_keys.py `KeyLimits`); none: anything."""
