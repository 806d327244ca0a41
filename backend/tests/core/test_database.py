"""Telling a database that is down or restarting (answered 503) from a statement that failed,
and a deadlock's victim from both."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from app.core.database import create_engine, deadlocked, unavailable
from tests.databases import scratch_database


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


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", id="mariadb", marks=pytest.mark.mysql),
    ],
)
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
