"""Raising, resolving and listing alerts. Raising and resolving each commit on their own, so a
condition found by one check never waits on, nor rolls back with, another."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.database import session_scope
from app.models import Alert
from app.schemas.alert import AlertKind, AlertState


def open_key(kind: AlertKind, subject: str) -> str:
    return f"{kind}:{subject}"


@dataclass(frozen=True)
class Condition:
    """What an alert says about its subject; `subject` identifies it within its kind."""

    kind: AlertKind
    subject: str
    message: str
    platform_id: str | None = None
    user_id: int | None = None
    account_id: int | None = None

    @property
    def open_key(self) -> str:
        return open_key(self.kind, self.subject)


async def raise_alert(
    factory: async_sessionmaker[AsyncSession], condition: Condition
) -> Alert | None:
    """Open an alert for the condition; None when one is open for it already."""
    try:
        async with session_scope(factory) as session:
            if (
                await session.scalar(select(Alert.id).where(Alert.open_key == condition.open_key))
                is not None
            ):
                return None
            alert = Alert(
                kind=condition.kind,
                subject=condition.subject,
                open_key=condition.open_key,
                platform_id=condition.platform_id,
                user_id=condition.user_id,
                account_id=condition.account_id,
                message=condition.message[:500],
            )
            session.add(alert)
    except IntegrityError:  # another worker raised it between our look and our insert
        return None
    return alert


async def resolve(
    factory: async_sessionmaker[AsyncSession], alert_id: int, now: datetime
) -> Alert | None:
    """Close an open alert; None when it was closed already."""
    async with session_scope(factory) as session:
        result = await session.execute(
            update(Alert)
            .where(Alert.id == alert_id, Alert.resolved_at.is_(None))
            .values(resolved_at=now, open_key=None)
            .execution_options(synchronize_session=False)
        )
        if not getattr(result, "rowcount", 0):
            return None
        return await session.get(Alert, alert_id)


async def open_alerts(session: AsyncSession, kind: AlertKind) -> list[Alert]:
    return list(
        await session.scalars(select(Alert).where(Alert.kind == kind, Alert.resolved_at.is_(None)))
    )


async def recent(
    session: AsyncSession,
    *,
    user_id: int | None = None,
    state: AlertState | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[Alert]:
    """Newest first: every alert, or one user's; open or resolved ones only when asked."""
    query = select(Alert).order_by(Alert.id.desc()).limit(limit)
    if user_id is not None:
        query = query.where(Alert.user_id == user_id)
    if state == "open":
        query = query.where(Alert.resolved_at.is_(None))
    elif state == "resolved":
        query = query.where(Alert.resolved_at.is_not(None))
    if before_id is not None:
        query = query.where(Alert.id < before_id)
    return list(await session.scalars(query))
