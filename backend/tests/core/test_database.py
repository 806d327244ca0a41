"""Telling a database that is down or restarting (answered 503) from a statement that failed."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from app.core.database import create_engine, unavailable


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
