"""Job leases in the database: one process at a time runs a job, across workers and instances.

`hold` takes the lease when it is free or has run out, or renews it for its holder, with one
conditional UPDATE; the first `hold` of a job inserts its row, and of two processes racing to do
that the primary key lets one win. Leases are short (JOB_LEASE_SECONDS) and renewed by a live
holder every third of that (services/background.py), so a holder that died loses its lease
within seconds. Times come from each process's clock: hosts whose clocks disagree by more than
a lease's length could both run a job for a while, which the jobs tolerate (each of their units
is claimed, or given back only by whoever deletes it), so it costs work, never correctness.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.database import session_scope, utcnow
from app.models import JobLease

_RELEASED = datetime(1970, 1, 1, tzinfo=UTC)


def new_holder() -> str:
    """A name for this process's holdings, unique even for two apps in one process."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


async def hold(
    factory: async_sessionmaker[AsyncSession],
    name: str,
    holder: str,
    ttl: timedelta,
    now: datetime | None = None,
) -> bool:
    """Take or renew the lease `name` for `ttl` from `now`; False while another holder has it."""
    now = now or utcnow()
    async with session_scope(factory) as session:
        result = await session.execute(
            update(JobLease)
            .where(
                JobLease.name == name,
                or_(JobLease.holder == holder, JobLease.expires_at < now),
            )
            .values(holder=holder, expires_at=now + ttl)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0):
            return True
        if await session.scalar(select(JobLease.name).where(JobLease.name == name)) is not None:
            return False
    try:
        async with session_scope(factory) as session:
            session.add(JobLease(name=name, holder=holder, expires_at=now + ttl))
    except IntegrityError:
        return False
    return True


async def release(factory: async_sessionmaker[AsyncSession], name: str, holder: str) -> None:
    """Give the lease up at once (on shutdown), so another process need not wait it out."""
    async with session_scope(factory) as session:
        await session.execute(
            update(JobLease)
            .where(JobLease.name == name, JobLease.holder == holder)
            .values(expires_at=_RELEASED)
            .execution_options(synchronize_session=False)
        )
