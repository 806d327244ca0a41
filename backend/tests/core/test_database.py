"""Telling a database that is down or restarting (answered 503) from a statement that failed,
and a deadlock's victim from both; pooled connections the server dropped are replaced."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import create_async_engine

from app.core import database
from app.core.database import create_engine, deadlocked, unavailable
from tests.helpers.databases import scratch_database


class DriverError(Exception):
    def __init__(self, *args: object, sqlstate: str | None = None) -> None:
        super().__init__(*args)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(DBAPIError("SELECT", None, DriverError("gone"), connection_invalidated=True),
                     id="connection-cut"),
        pytest.param(OperationalError("SELECT", None, DriverError("starting", sqlstate="57P03")),
                     id="postgres-starting-up"),
        pytest.param(OperationalError("SELECT", None, DriverError("lost", sqlstate="08006")),
                     id="postgres-connection-failure"),
        pytest.param(OperationalError(None, None, DriverError(2003, "Can't connect")),
                     id="mysql-cannot-connect"),
    ],
)  # fmt: skip
def test_a_database_out_of_reach_is_unavailable(error: DBAPIError) -> None:
    assert unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(IntegrityError("INSERT", None, DriverError("duplicate", sqlstate="23505")),
                     id="constraint"),
        pytest.param(OperationalError("UPDATE", None, DriverError(1213, "Deadlock found")),
                     id="mysql-deadlock"),
        pytest.param(ConnectionRefusedError(111, "Connection refused"), id="not-the-database"),
    ],
)  # fmt: skip
def test_a_failed_statement_or_another_connection_is_not(error: Exception) -> None:
    assert not unavailable(error)


async def test_a_refused_connection_raised_through_the_pool_is_unavailable() -> None:
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:9/nothing")  # discard port
    with pytest.raises(OSError) as raised:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    await engine.dispose()
    assert unavailable(raised.value)


@pytest.mark.postgres
async def test_no_pooled_connection_free_in_time_is_unavailable() -> None:
    """Every pooled connection held (by transactions waiting on a hot row, say): the next
    request's wait for one runs out, and that is answered as the database unavailable (503,
    tried again by the books), not as a failed statement."""
    engine = create_async_engine(
        "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.2,
    )
    try:
        async with engine.connect() as holding:
            await holding.execute(text("SELECT 1"))
            with pytest.raises(PoolTimeout) as raised:
                async with engine.connect() as waiting:
                    await waiting.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    assert unavailable(raised.value)


SERVERS = [
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mariadb", marks=pytest.mark.mysql),
]


@pytest.mark.parametrize("kind", SERVERS)
async def test_a_deadlocks_victim_is_told_apart(kind: str) -> None:
    """Two transactions lock two rows crosswise: the database rolls one back, and that one is
    recognised as a deadlock's victim (tried again by the books and the reservations)."""
    async with scratch_database(kind) as url:
        engine = create_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE pair (id INT PRIMARY KEY, n INT)"))
            await connection.execute(text("INSERT INTO pair VALUES (1, 0), (2, 0)"))

        BUMP = text("UPDATE pair SET n = n + 1 WHERE id = :id")

        async def cross(first: int, second: int, started: asyncio.Event, go: asyncio.Event) -> None:
            async with engine.begin() as connection:
                await connection.execute(BUMP, {"id": first})
                started.set()
                await go.wait()
                await connection.execute(BUMP, {"id": second})

        one, two, go = asyncio.Event(), asyncio.Event(), asyncio.Event()
        a = asyncio.create_task(cross(1, 2, one, go))
        b = asyncio.create_task(cross(2, 1, two, go))
        await one.wait()
        await two.wait()
        go.set()
        outcomes = await asyncio.gather(a, b, return_exceptions=True)
        failed = [o for o in outcomes if isinstance(o, Exception)]
        await engine.dispose()
    assert len(failed) == 1 and deadlocked(failed[0]) and not unavailable(failed[0])
    assert not deadlocked(IntegrityError("INSERT", None, DriverError("duplicate")))


_OWN_ID = {"postgres": "SELECT pg_backend_pid()", "mysql": "SELECT CONNECTION_ID()"}
_KILL = {"postgres": "SELECT pg_terminate_backend({})", "mysql": "KILL {}"}


async def pooled_connections_killed(kind: str, url: str, engine, count: int) -> None:
    """`count` connections opened at once and back in `engine`'s pool, then ended by the server
    (as a restart would)."""
    async with contextlib.AsyncExitStack() as stack:
        connections = [await stack.enter_async_context(engine.connect()) for _ in range(count)]
        ids = [(await c.execute(text(_OWN_ID[kind]))).scalar_one() for c in connections]
    admin = create_engine(url)
    async with admin.connect() as connection:
        for found in ids:
            await connection.execute(text(_KILL[kind].format(int(found))))
    await admin.dispose()


@pytest.mark.parametrize("kind", SERVERS)
async def test_a_pooled_connection_that_sat_idle_is_checked_before_use(kind, monkeypatch):
    monkeypatch.setattr(database, "PING_AFTER_IDLE_S", 0.0)
    async with scratch_database(kind) as url:
        engine = create_engine(url, pool_size=1)
        await pooled_connections_killed(kind, url, engine, 1)
        async with engine.connect() as connection:
            answer = (await connection.execute(text("SELECT 1"))).scalar_one()
        await engine.dispose()
    assert answer == 1  # the check found the connection gone and the pool made a new one


@pytest.mark.parametrize("kind", SERVERS)
async def test_a_connection_back_moments_ago_is_used_unchecked_and_its_loss_drops_the_pool(
    kind, monkeypatch
):
    monkeypatch.setattr(database, "PING_AFTER_IDLE_S", 3600.0)
    async with scratch_database(kind) as url:
        engine = create_engine(url, pool_size=2)
        await pooled_connections_killed(kind, url, engine, 2)
        with pytest.raises(DBAPIError) as failed:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        async with engine.connect() as connection:  # the other dead one is not tried
            answer = (await connection.execute(text("SELECT 1"))).scalar_one()
        await engine.dispose()
    assert unavailable(failed.value)
    assert answer == 1


async def test_sqlites_busy_snapshot_is_a_victim_tried_again(tmp_path) -> None:
    """On SQLite a transaction that read, then wants to write after another connection
    committed, is refused at once whatever the busy timeout (SQLITE_BUSY_SNAPSHOT): only the
    transaction tried again can succeed, as with a deadlock's victim."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE pair (id INT PRIMARY KEY, n INT)"))
        await connection.execute(text("INSERT INTO pair VALUES (1, 0)"))
    async with engine.connect() as reader, engine.connect() as writer:
        await reader.exec_driver_sql("BEGIN")
        await reader.execute(text("SELECT n FROM pair"))
        await writer.execute(text("UPDATE pair SET n = 1"))
        await writer.commit()
        with pytest.raises(OperationalError) as refused:
            await reader.execute(text("UPDATE pair SET n = 2"))
        await reader.rollback()
    await engine.dispose()
    assert deadlocked(refused.value) and database.passing(refused.value)
    assert not unavailable(refused.value)
