"""Which `platform/model` served a request, for the `x-oauth-proxy-target` header that every
answer carries (api/middleware.py holds a slot per request; the call path fills it)."""

from __future__ import annotations

from contextvars import ContextVar

SERVED: ContextVar[list[str] | None] = ContextVar("served_target", default=None)


def note(platform_id: str, model: str) -> None:
    slot = SERVED.get()
    if slot is not None:
        slot[:] = [f"{platform_id}/{model}"]
