"""Users of the service: each owns their accounts and sees only those."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, TimestampMixin


class User(TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    # None for users provisioned from a host application's tokens: they cannot sign in here.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    admin_seat: Mapped[bool | None] = mapped_column(Boolean, unique=True)
    """True for the user who took the first administrator's seat (unique: only one can), NULL
    for everyone else."""
    limits: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Budgets set by administrators (app/schemas/budgets.py `Budgets`); none: no cap."""
