"""Waiting for a condition that something else makes true (a background task, another thread),
polled, bounded: a test waits as long as it must and no longer, instead of sleeping a guess."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def wait_until(condition: Callable[[], bool], within: float = 10) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
