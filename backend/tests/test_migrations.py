"""The migrations build and remove the whole schema on SQLite, PostgreSQL and MariaDB, and the
account routes work on each."""

from __future__ import annotations

import anyio
import httpx
import pytest
from alembic import command
from sqlalchemy import inspect, text

from app.api.deps import app_context
from app.core.database import create_engine, session_scope
from app.main import create_app
from app.models import Base
from app.services.platforms import upsert_platforms
from tests.conftest import alembic_config, make_settings, migrate_async, shipped_platforms_on
from tests.helpers.databases import empty_database

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mariadb", marks=pytest.mark.mysql),
]


async def _tables_and_indexes(url: str) -> tuple[set[str], dict[str, set[str]]]:
    engine = create_engine(url)
    async with engine.connect() as connection:

        def read(sync_connection):
            inspector = inspect(sync_connection)
            tables = set(inspector.get_table_names())
            indexes = {t: {i["name"] for i in inspector.get_indexes(t)} for t in tables}
            return tables, indexes

        result = await connection.run_sync(read)
    await engine.dispose()
    return result


async def _exercise(url: str, fakes) -> None:
    await migrate_async(url)
    tables, indexes = await _tables_and_indexes(url)
    assert set(Base.metadata.tables) <= tables
    assert {"idx_user_platform", "idx_active"} <= indexes["oauth_accounts"]

    # The account routes on this database: bind, list, toggle, delete.
    app = create_app(make_settings(url, background_jobs=False))
    async with app.router.lifespan_context(app):
        async with session_scope(app_context(app).factory) as session:
            await upsert_platforms(session, shipped_platforms_on(fakes))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            from tests.conftest import new_user
            from tests.helpers.api import bind

            auth = await new_user(app)
            account = await bind(client, auth, account_name="多数据库 ✓")
            listed = (await client.get("/api/v1/oauth/accounts", headers=auth)).json()["data"]
            assert listed[0]["account_name"] == "多数据库 ✓"
            assert listed[0]["created_at"].endswith(("Z", "+00:00"))
            toggled = await client.put(
                f"/api/v1/oauth/accounts/{account['id']}/toggle", headers=auth
            )
            assert toggled.json()["data"]["is_active"] is False
            assert (
                await client.delete(f"/api/v1/oauth/accounts/{account['id']}", headers=auth)
            ).status_code == 200
            assert (await client.get("/readyz")).status_code == 200

    await anyio.to_thread.run_sync(command.downgrade, alembic_config(url), "base")
    tables, _ = await _tables_and_indexes(url)
    assert tables <= {"alembic_version"}
    # And up again: a downgrade leaves nothing behind that blocks a fresh upgrade.
    await migrate_async(url)


@pytest.mark.parametrize("kind", BACKENDS)
async def test_upgrade_use_and_downgrade(kind, tmp_path, platform_fakes):
    async with empty_database(kind, tmp_path) as url:
        await _exercise(url, platform_fakes)


@pytest.mark.parametrize("kind", BACKENDS)
async def test_the_models_match_the_migrations(kind, tmp_path):
    """`alembic check`: no difference between the models and the migrated schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    async def check(url: str) -> None:
        await migrate_async(url)
        engine = create_engine(url)
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
                )
            )
            version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
        await engine.dispose()
        assert diff == [], diff
        assert version is not None

    async with empty_database(kind, tmp_path) as url:
        await check(url)
