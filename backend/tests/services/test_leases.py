"""Job leases: one holder at a time on every database, and a leased job that runs in one of two
service instances sharing a database, moving to the other when the first stops or dies."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app.api.deps import app_context
from app.core.database import create_engine, create_session_factory, utcnow
from app.main import create_app
from app.services import leases
from app.services.alerts.checks import AlertChecker
from tests.conftest import make_settings, migrate_async
from tests.helpers.databases import empty_database
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.serial

LEASE_S = 0.6
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mariadb", marks=pytest.mark.mysql),
]


async def migrated(kind: str, tmp_path: Path, stack: AsyncExitStack) -> str:
    url = await stack.enter_async_context(empty_database(kind, tmp_path))
    await migrate_async(url)
    return url


@pytest.fixture
async def stack() -> AsyncIterator[AsyncExitStack]:
    async with AsyncExitStack() as exits:
        yield exits


@pytest.mark.parametrize("kind", BACKENDS)
async def test_one_holder_at_a_time_until_it_releases_or_lapses(kind, tmp_path, stack):
    engine = create_engine(await migrated(kind, tmp_path, stack))
    stack.push_async_callback(engine.dispose)
    factory = create_session_factory(engine)
    first, second = leases.new_holder(), leases.new_holder()
    minute = timedelta(minutes=1)

    # Both race for a lease nobody has held yet: exactly one gets it.
    won = await asyncio.gather(
        leases.hold(factory, "job", first, minute), leases.hold(factory, "job", second, minute)
    )
    assert sorted(won) == [False, True]
    holder, other = (first, second) if won[0] else (second, first)
    assert await leases.hold(factory, "job", holder, minute)  # renewal
    assert not await leases.hold(factory, "job", other, minute)
    assert await leases.hold(factory, "another job", other, minute)  # leases are per job

    await leases.release(factory, "job", other)  # not the holder's to release: no effect
    assert not await leases.hold(factory, "job", other, minute)
    await leases.release(factory, "job", holder)
    now = utcnow()
    assert await leases.hold(factory, "job", other, minute, now)

    # A holder that stops renewing (a dead process) is replaced once its lease lapses.
    assert not await leases.hold(factory, "job", holder, minute, now + minute / 2)
    assert await leases.hold(factory, "job", holder, minute, now + minute * 1.01)
    assert not await leases.hold(factory, "job", other, minute, now + minute * 1.02)


async def test_the_alert_checks_run_in_one_of_two_instances(tmp_path, monkeypatch):
    url = f"sqlite+aiosqlite:///{tmp_path / 'two-instances.db'}"
    await migrate_async(url)
    rounds: list[tuple[int, float, float]] = []

    async def recorded(self: AlertChecker) -> int:
        started = time.monotonic()
        await asyncio.sleep(0.05)
        rounds.append((id(self), started, time.monotonic()))
        return 0

    monkeypatch.setattr(AlertChecker, "run", recorded)
    settings = make_settings(
        url, background_jobs=True, alert_check_interval=0.1, job_lease_seconds=LEASE_S
    )
    apps = [create_app(settings), create_app(settings)]
    stacks = [AsyncExitStack(), AsyncExitStack()]
    try:
        for app, exits in zip(apps, stacks, strict=True):
            await exits.enter_async_context(app.router.lifespan_context(app))
        checker_of: dict[int, Any] = {id(app_context(app).jobs.alerts): app for app in apps}
        # Ten rounds outlast two leases: the holder renewed, and the other never got a turn.
        await wait_until(lambda: len(rounds) >= 10)

        ran = {checker for checker, _, _ in rounds}
        assert len(ran) == 1, "both instances ran the checks"
        ordered = sorted(rounds, key=lambda r: r[1])
        assert all(a[2] <= b[1] for a, b in itertools.pairwise(ordered))

        # The running instance dies (its jobs end, its lease is not given up): the other
        # takes the checks over once the lease lapses, within 4/3 of a lease.
        (running,) = ran
        dead = checker_of[running]
        for task in app_context(dead).jobs._tasks:
            task.cancel()
        await asyncio.gather(*app_context(dead).jobs._tasks, return_exceptions=True)
        died = time.monotonic()
        while not any(checker != running for checker, _, _ in rounds):
            assert time.monotonic() - died < LEASE_S * 4 / 3 + 0.5, "not taken over in time"
            await asyncio.sleep(0.02)
        assert time.monotonic() - died > LEASE_S / 2  # not before the lease could lapse
        app_context(dead).jobs._tasks = []
    finally:
        for exits in stacks:
            await exits.aclose()
