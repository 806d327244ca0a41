"""`session_scope`: what the block wrote is committed and its cache changes announced, what it
read is detached with the connection given back, a block that raised leaves nothing behind; a
block that did nothing holds no connection and is dropped without a commit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.core.cache import Generations, changed
from app.core.database import create_engine, create_session_factory, session_scope

GENERATIONS = Generations(None)  # in-process: what a commit announces is counted here


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(50))


@pytest.fixture
async def engine(tmp_path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'scope.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
def factory(engine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine, GENERATIONS)


async def notes(factory) -> list[str]:
    async with factory() as session:
        return list(await session.scalars(select(Note.text).order_by(Note.id)))


async def test_what_a_block_adds_is_committed(factory, engine):
    async with session_scope(factory) as session:
        session.add(Note(text="kept"))  # no statement has run yet: the change alone counts

    assert await notes(factory) == ["kept"]
    assert engine.pool.checkedout() == 0


async def test_what_a_block_reads_is_detached_and_its_connection_given_back(factory, engine):
    async with session_scope(factory) as session:
        session.add(Note(text="one"))
    async with session_scope(factory) as session:
        [note] = await session.scalars(select(Note))
        assert engine.pool.checkedout() == 1

    assert engine.pool.checkedout() == 0
    assert note not in session
    assert note.text == "one"


async def test_a_block_that_raises_leaves_nothing(factory, engine):
    with pytest.raises(RuntimeError):
        async with session_scope(factory) as session:
            session.add(Note(text="lost"))
            await session.flush()
            raise RuntimeError("the call failed")

    assert await notes(factory) == []
    assert engine.pool.checkedout() == 0


async def test_a_block_that_does_nothing_takes_no_connection(factory, engine):
    async with session_scope(factory) as session:
        pass

    assert not session.in_transaction()
    assert engine.pool.checkedout() == 0
    assert await notes(factory) == []


async def test_a_block_that_committed_its_own_work_still_announces_and_detaches(factory, engine):
    async with session_scope(factory) as session:
        session.add(Note(text="first"))
    (before,) = await GENERATIONS.read("notes")

    async with session_scope(factory) as session:
        [note] = await session.scalars(select(Note))
        note.text = "edited"
        changed(session, "notes")
        await session.commit()  # nothing left open when the block ends

    assert await GENERATIONS.read("notes") == (before + 1,)
    assert note not in session
    assert await notes(factory) == ["edited"]
