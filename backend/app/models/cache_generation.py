"""The caches' generations, kept in the database for deployments without Redis: a change bumps
its namespace's row in the same transaction, and every process reads the rows at most once a
second (app/core/cache.py), so a platform added by a script or an account disabled in one worker
is seen by every other worker within a second."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class CacheGeneration(Base):
    __tablename__ = "cache_generations"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    generation: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0", nullable=False
    )
