"""One portable INSERT … ON CONFLICT DO UPDATE (SQLite, PostgreSQL) / ON DUPLICATE KEY UPDATE
(MySQL, MariaDB) on a table's primary key: counters and per-key state never race on insert."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def upsert(
    session: AsyncSession,
    table: Table,
    row: dict[str, Any],
    on_conflict: Callable[[Any], dict[str, Any]],
) -> None:
    """Insert `row`; if its key exists, set `on_conflict(new)` where `new.<column>` is the value
    that was to be inserted."""
    dialect = session.get_bind().dialect.name
    if dialect in ("mysql", "mariadb"):
        mysql_insert = mysql.insert(table).values(**row)
        statement: Any = mysql_insert.on_duplicate_key_update(**on_conflict(mysql_insert.inserted))
    else:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        base = insert(table).values(**row)
        statement = base.on_conflict_do_update(
            index_elements=[c.name for c in table.primary_key.columns],
            set_=on_conflict(base.excluded),
        )
    await session.execute(statement)
