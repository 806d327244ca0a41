"""A fake alert webhook receiver: records each JSON POST to `/hook/<token>`, answering with the
statuses it is told to (then 200), so tests see exactly what a receiver would."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "hook-token-0f9e8d7c6b5a"
"""The hook's secret path part: it must never reach a log line."""


class WebhookReceiver:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        """Bodies answered 2xx, in arrival order."""
        self.attempts = 0
        self.content_types: list[str] = []
        self._answers: deque[int] = deque()
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/hook/{token}", self._hook, methods=["POST"])])

    def fail_next(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, in order."""
        self._answers.extend(statuses)

    def reset(self) -> None:
        with self._lock:
            self.received.clear()
            self.content_types.clear()
            self._answers.clear()
            self.attempts = 0

    def url(self, base: str) -> str:
        return f"{base}/hook/{TOKEN}"

    def events_for(self, **match: Any) -> list[dict[str, Any]]:
        """The events whose alert has these field values (e.g. `account_id=3`)."""
        return [e for e in self.received if all(e["alert"].get(k) == v for k, v in match.items())]

    async def wait_for(
        self, count: int, timeout_s: float = 10, **match: Any
    ) -> list[dict[str, Any]]:
        """The matching events once there are `count` of them (or the timeout has passed)."""
        deadline = time.monotonic() + timeout_s
        # The receiver runs on its own thread and loop: polling is the plain bridge.
        while len(self.events_for(**match)) < count and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        return self.events_for(**match)

    async def _hook(self, request: Request) -> Response:
        if request.path_params["token"] != TOKEN:
            return JSONResponse({"error": "unknown hook"}, status_code=404)
        body = await request.json()
        with self._lock:
            self.attempts += 1
            status = self._answers.popleft() if self._answers else 200
            if status < 300:
                self.received.append(body)
                self.content_types.append(request.headers.get("content-type", ""))
        return JSONResponse({"ok": status < 300}, status_code=status)
