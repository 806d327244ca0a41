"""Database engine and sessions (async SQLAlchemy 2) for SQLite, PostgreSQL and MySQL/MariaDB.

The request owns the transaction: `session_scope` commits when the block succeeds and rolls back
when it raises; services only `flush()`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, event
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

from app.core.cache import Generations, announce


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python, naive UTC in the database (portable across all three)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        # MySQL's DATETIME drops fractions of a second unless asked for them.
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC datetime is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    parsed = make_url(url)
    options: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # The busy timeout queues writers instead of failing them.
        options["connect_args"] = {"timeout": 30}
    else:
        options.update(pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)
    engine = create_async_engine(url, **options)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_session_factory(
    engine: AsyncEngine, generations: Generations | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions that know the cache generations, so that committed changes reach every cache."""
    info = {"generations": generations} if generations is not None else {}
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False, info=info)


@asynccontextmanager
async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
        await announce(session)
    # In WAL mode NORMAL cannot corrupt the database; a power cut may lose the last commits, an
    # application crash loses nothing. FULL would sync the disk on every call's books.
    cursor.execute("PRAGMA synchronous=NORMAL")
