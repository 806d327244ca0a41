"""Throwaway databases on the PostgreSQL and MariaDB servers the tests may use."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text

from app.core.database import create_engine

ADMIN_URLS = {
    "postgres": "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
    "mysql": "mysql+aiomysql://root@127.0.0.1:3306/test",
}


@asynccontextmanager
async def scratch_database(kind: str) -> AsyncIterator[str]:
    """Create an empty database for one test module, yield its URL, drop it afterwards."""
    name = f"oauth_proxy_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URLS[kind])
    options = {"isolation_level": "AUTOCOMMIT"}
    async with admin.connect() as connection:
        await (await connection.execution_options(**options)).execute(
            text(f"CREATE DATABASE {name}")
        )
    base = ADMIN_URLS[kind].rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        async with admin.connect() as connection:
            conn = await connection.execution_options(**options)
            if kind == "postgres":
                await conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                await conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        await admin.dispose()
