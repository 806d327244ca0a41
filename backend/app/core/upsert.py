"""One portable INSERT … ON CONFLICT DO UPDATE (SQLite, PostgreSQL) / ON DUPLICATE KEY UPDATE
(MySQL, MariaDB) on a table's primary key: counters and per-key state never race on insert.

The statement is built once per dialect and shape, with bound parameters: the call path runs it
on every call, and building it (and its cache key) costs more than running it."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Table, bindparam
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def upsert(
    session: AsyncSession,
    table: Table,
    row: dict[str, Any],
    *,
    add: tuple[str, ...] = (),
    replace: tuple[str, ...] = (),
) -> None:
    """Insert `row`; if its key exists, add its `add` values to the stored ones and set its
    `replace` values."""
    dialect = session.get_bind().dialect.name
    await session.execute(_statement(dialect, table, tuple(row), add, replace), row)


@functools.lru_cache(maxsize=32)
def _statement(
    dialect: str,
    table: Table,
    columns: tuple[str, ...],
    add: tuple[str, ...],
    replace: tuple[str, ...],
) -> Any:
    values: dict[str, Any] = {name: bindparam(name) for name in columns}
    if dialect in ("mysql", "mariadb"):
        mysql_insert = mysql.insert(table).values(values)
        new = mysql_insert.inserted
        return mysql_insert.on_duplicate_key_update(_changes(table, new, add, replace))
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    base = insert(table).values(values)
    return base.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key.columns],
        set_=_changes(table, base.excluded, add, replace),
    )


def _changes(
    table: Table, new: Any, add: tuple[str, ...], replace: tuple[str, ...]
) -> dict[str, Any]:
    return {name: table.c[name] + new[name] for name in add} | {name: new[name] for name in replace}
