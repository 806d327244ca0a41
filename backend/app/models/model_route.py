"""Model routes: a model name that stands for a list of `platform/model` targets and a strategy
for choosing among them (app/services/model_routes.py). `owner_id` 0 is the deployment's route,
any other the user's own, which shadows the deployment route of the same name for that user."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntId, TimestampMixin

DEPLOYMENT = 0


class ModelRoute(TimestampMixin, Base):
    __tablename__ = "model_routes"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_model_routes_owner_name"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    owner_id: Mapped[int] = mapped_column(BigIntId, nullable=False, index=True)
    """The user's id, or 0 for a deployment-wide route."""
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    strategy: Mapped[str] = mapped_column(String(20), nullable=False)
    targets: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    """[{"model": "platform/model", "weight": 1}, …] in the order given."""
    description: Mapped[str] = mapped_column(String(500), nullable=False, default="")
