"""The servers the tests may use (PostgreSQL, MariaDB, Redis on 127.0.0.1), throwaway databases
on them (or a SQLite file), and a migrated database holding one account with a daily limit."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core.database import create_engine, create_session_factory, session_scope
from app.models import OAuthAccount, PlatformConfig, User
from tests.conftest import migrate_async

REDIS_URL = "redis://127.0.0.1:6379/0"
DEAD_REDIS = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
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


@asynccontextmanager
async def empty_database(kind: str, folder: Path) -> AsyncIterator[str]:
    """An empty database of `kind` ("sqlite": a new file in `folder`); yields its URL."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / f'{uuid.uuid4().hex[:8]}.db'}"
        return
    async with scratch_database(kind) as url:
        yield url


async def one_limited_account(
    url: str, daily_limit: int
) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession], PlatformConfig, OAuthAccount]:
    """The database at `url` migrated, with a user and one account on a platform "p" whose
    accounts may use `daily_limit` tokens a day."""
    await migrate_async(url)
    engine = create_engine(url)
    factory = create_session_factory(engine)
    platform = PlatformConfig(
        platform_id="p",
        platform_name="P",
        oauth_config={},
        litellm_config={"provider": "openai", "api_base": "http://x", "default_model": "m"},
        quota_config={"daily_limit": daily_limit},
    )
    async with session_scope(factory) as session:
        user = User(username="u", password_hash=None)
        session.add_all([user, platform])
        await session.flush()
        account = OAuthAccount(user_id=user.id, platform_id="p", account_name="a")
        session.add(account)
        await session.flush()
    return engine, factory, platform, account
