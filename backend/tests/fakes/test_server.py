"""The test servers themselves: a service started beside the in-process app shares its SQLite
file, so its start-up must not wait on a write that the test's own event loop holds."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import text

from app.api.deps import app_context
from app.core.database import session_scope
from app.main import create_app
from tests.conftest import make_settings
from tests.fakes.server import serve_service


async def test_a_service_starts_while_a_task_of_the_tests_loop_holds_the_write_lock(
    app: Any, sqlite_url: str
) -> None:
    held, release = asyncio.Event(), asyncio.Event()

    async def write_slowly() -> None:
        async with session_scope(app_context(app).factory) as session:
            await session.execute(text("UPDATE platform_configs SET id = id WHERE id = -1"))
            held.set()
            await release.wait()

    writer = asyncio.create_task(write_slowly())
    await held.wait()
    # The write ends only if this loop keeps running while the service starts.
    asyncio.get_running_loop().call_later(0.2, release.set)
    served = create_app(make_settings(sqlite_url, background_jobs=False))
    async with serve_service(served) as server, httpx.AsyncClient() as http:
        assert (await http.get(server.url + "/readyz")).status_code == 200
    await writer
