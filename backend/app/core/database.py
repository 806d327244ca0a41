"""Database engine and sessions (async SQLAlchemy 2) for SQLite, PostgreSQL and MySQL/MariaDB.

The request owns the transaction: `session_scope` commits when the block succeeds and rolls back
when it raises; services only `flush()`. `unavailable` tells a database that is down or restarting
from a statement that failed (the first is answered 503; pooled connections that sat idle are
checked before use, and a failed one drops the pool's others, so the service recovers by itself
once the database is back).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import DateTime, event
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import TypeDecorator, TypeEngine
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from app.core.cache import Generations, announce, changes_to_announce, record_changes


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


# SQLSTATEs that say the server is gone or not taking connections: connection exceptions (class
# 08), shutting down, crashed, starting up; and MySQL's server shutting down (1053), cannot
# connect (2002, 2003), connection lost (2006, 2013).
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")
_UNAVAILABLE_MYSQL_ERRORS = frozenset({1053, 2002, 2003, 2006, 2013})


def unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached now (down, restarting, the connection
    cut, or no pooled connection free within the pool's timeout: every one held up, e.g. by
    transactions of a starved process waiting on one row) rather than that a statement failed:
    what trying again shortly cures."""
    if isinstance(exc, PoolTimeout):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        state = str(getattr(exc.orig, "sqlstate", None) or "")
        if state.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        code = (getattr(exc.orig, "args", None) or (None,))[0]
        return code in _UNAVAILABLE_MYSQL_ERRORS
    # A driver that cannot even connect (asyncpg) raises the socket's error, unwrapped.
    return isinstance(exc, ConnectionError | TimeoutError) and _passed_through_sqlalchemy(
        exc.__traceback__
    )


# SQLite's SQLITE_BUSY and its extended codes (the low byte is 5): a transaction that read first
# and then wanted to write after another writer committed gets it at once, whatever the busy
# timeout, since waiting could not help: only the whole transaction tried again can.
_SQLITE_BUSY = 5


def deadlocked(exc: BaseException) -> bool:
    """Whether `exc` says this transaction was a deadlock's victim (PostgreSQL 40P01, MySQL and
    MariaDB 1213, SQLite busy): it is rolled back, and trying it again is safe."""
    if not isinstance(exc, DBAPIError):
        return False
    state = getattr(exc.orig, "sqlstate", None)
    code = (getattr(exc.orig, "args", None) or (None,))[0]
    sqlite_code = getattr(exc.orig, "sqlite_errorcode", None)
    busy = isinstance(sqlite_code, int) and sqlite_code & 0xFF == _SQLITE_BUSY
    return state == "40P01" or code == 1213 or busy


def passing(exc: BaseException) -> bool:
    """A failure that trying the transaction again cures: the database unavailable, or a
    deadlock's victim (rolled back)."""
    return unavailable(exc) or deadlocked(exc)


T = TypeVar("T")


async def retried(
    factory: async_sessionmaker[AsyncSession],
    write: Callable[[AsyncSession, bool], Awaitable[T]],
    *,
    within_s: float,
) -> T:
    """`write(session, again)` in a transaction of its own, tried again with backoff while the
    failure is `passing`, for up to `within_s`; `again` is true from the second try on (an
    earlier COMMIT cut off by a lost connection may have landed). The first try runs without
    the retry machinery, which costs more than a short transaction."""
    try:
        async with session_scope(factory) as session:
            return await write(session, False)
    except Exception as exc:
        if not passing(exc):
            raise

    async def again() -> T:
        async with session_scope(factory) as session:
            return await write(session, True)

    retrying = AsyncRetrying(
        retry=retry_if_exception(passing),
        wait=wait_exponential(multiplier=0.2, max=5),
        stop=stop_after_delay(within_s),
        reraise=True,
    )
    return await retrying(again)


def _passed_through_sqlalchemy(traceback: TracebackType | None) -> bool:
    while traceback is not None:
        if str(traceback.tb_frame.f_globals.get("__name__", "")).startswith("sqlalchemy."):
            return True
        traceback = traceback.tb_next
    return False


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    parsed = make_url(url)
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # The busy timeout queues writers instead of failing them.
        options["connect_args"] = {"timeout": 30}
    else:
        options.update(pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)
    # No statement parameter in a log line or an error message, whatever the log level.
    engine = create_async_engine(url, hide_parameters=True, **options)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        _ping_when_idle(engine)  # a file database cannot go away
    return engine


PING_AFTER_IDLE_S = 5.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    """A server may restart under the pool: a connection that sat idle for PING_AFTER_IDLE_S is
    checked before use. One back in the pool moments ago is not (SQLAlchemy's `pool_pre_ping`
    checks every checkout: three round trips with asyncpg, on every call's books); should the
    server go in that moment, the statement's failure drops the whole pool."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")  # None: connected just now
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("a pooled connection is gone") from exc  # the pool reconnects


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL cannot corrupt the database; a power cut may lose the last commits, an
    # application crash loses nothing. FULL would sync the disk on every call's books.
    cursor.execute("PRAGMA synchronous=NORMAL")
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
    """A transaction: committed when the block ends, rolled back when it raises. A session that
    did nothing is just dropped: it holds no connection, and committing and closing it would
    still cost two greenlet switches (the call path often needs no statement)."""
    session = factory()
    try:
        yield session
        if _did_nothing(session):
            return
        await record_changes(session)
        await session.commit()
    except BaseException:
        await session.rollback()
        await session.close()
        raise
    await session.close()
    await announce(session)


def _did_nothing(session: AsyncSession) -> bool:
    """No transaction open, no object to detach, no change to announce (a block may commit
    its own transactions before it ends)."""
    return not (session.in_transaction() or session.identity_map or changes_to_announce(session))
