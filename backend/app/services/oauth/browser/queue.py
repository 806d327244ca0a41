"""The cap on logins running at once, with a first-come, first-served queue."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from app.core.metrics import BROWSER_LOGINS


@dataclass
class _Waiter:
    run_id: str
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    granted: bool = False


class LoginQueue:
    """At most `limit` logins at once; the others wait in arrival order."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self._running: set[str] = set()
        self._waiting: deque[_Waiter] = deque()

    @property
    def running(self) -> int:
        return len(self._running)

    def position(self, run_id: str) -> int | None:
        """1 for the next login to start; None when `run_id` is not waiting."""
        for index, waiter in enumerate(self._waiting):
            if waiter.run_id == run_id:
                return index + 1
        return None

    @asynccontextmanager
    async def slot(
        self, run_id: str, on_wait: Callable[[int], Awaitable[None]] | None = None
    ) -> AsyncIterator[None]:
        """Hold a slot for the block; `on_wait(position)` is called whenever the position moves."""
        waiter = _Waiter(run_id)
        self._waiting.append(waiter)
        BROWSER_LOGINS.labels("waiting").inc()
        self._pump()
        try:
            while not waiter.granted:
                waiter.wake.clear()
                position = self.position(run_id)
                if on_wait is not None and position is not None:
                    await on_wait(position)
                if waiter.granted:
                    break
                await waiter.wake.wait()
        except BaseException:
            if waiter.granted:
                self._release(run_id)
            else:
                self._waiting.remove(waiter)
                BROWSER_LOGINS.labels("waiting").dec()
                self._pump()
            raise
        try:
            yield
        finally:
            self._release(run_id)

    def _release(self, run_id: str) -> None:
        if run_id in self._running:
            self._running.discard(run_id)
            BROWSER_LOGINS.labels("running").dec()
        self._pump()

    def _pump(self) -> None:
        while self._waiting and len(self._running) < self.limit:
            waiter = self._waiting.popleft()
            waiter.granted = True
            self._running.add(waiter.run_id)
            BROWSER_LOGINS.labels("waiting").dec()
            BROWSER_LOGINS.labels("running").inc()
            waiter.wake.set()
        for waiter in self._waiting:
            waiter.wake.set()
