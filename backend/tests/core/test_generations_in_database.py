"""Without Redis, a change made in one process reaches every other's caches through the
database: the change's transaction bumps its namespace's row, and each process reads the rows at
most once a second."""

from __future__ import annotations

from app.core.cache import DATABASE_READ_EVERY_S, Generations, changed
from app.core.database import create_engine, create_session_factory, session_scope
from tests.conftest import migrate_async


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_change_in_one_process_is_read_by_another_within_a_second(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'g.db'}"
    await migrate_async(url)
    engine = create_engine(url)
    clock = Clock()
    here = Generations(None, database=engine, clock=clock)
    there = Generations(None, database=engine, clock=clock)  # another worker
    (before,) = await there.read("platforms")

    async with session_scope(create_session_factory(engine, here)) as session:
        changed(session, "platforms")
    assert (await here.read("platforms")) != (before,)  # its own change: at once

    assert await there.read("platforms") == (before,)  # read less than a second ago
    clock.now += DATABASE_READ_EVERY_S
    (after,) = await there.read("platforms")
    assert after != before
    assert await there.read("platforms", "accounts:1") == (after, 0)
    await engine.dispose()


async def test_a_rolled_back_change_bumps_nothing(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'g.db'}"
    await migrate_async(url)
    engine = create_engine(url)
    clock = Clock()
    here = Generations(None, database=engine, clock=clock)
    there = Generations(None, database=engine, clock=clock)
    before = await there.read("platforms")
    try:
        async with session_scope(create_session_factory(engine, here)) as session:
            changed(session, "platforms")
            raise RuntimeError("the change failed")
    except RuntimeError:
        pass
    clock.now += DATABASE_READ_EVERY_S
    assert await there.read("platforms") == before
    await engine.dispose()
