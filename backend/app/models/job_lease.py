"""Leases that let one process at a time run a background job across workers and instances.

The holder renews its lease every third of its length; when it stops (or dies), the lease runs
out within seconds and the next process to try takes it over. The database is the one thing
every instance shares, with or without Redis, so the lease lives there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import UTCDateTime
from app.models.base import Base


class JobLease(Base):
    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120), nullable=False)
    """host:pid:random of the holding process."""
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
