"""Which `platform/model` and which of the caller's accounts served a request, for the
`x-oauth-proxy-target` and `x-oauth-proxy-account` headers that every answer carries
(api/middleware.py holds a slot per request; the call path fills it)."""

from __future__ import annotations

from contextvars import ContextVar

SERVED: ContextVar[list[str] | None] = ContextVar("served_target", default=None)


def note(platform_id: str, model: str, account_id: int) -> None:
    slot = SERVED.get()
    if slot is not None:
        slot[:] = [f"{platform_id}/{model}", str(account_id)]


def model() -> str | None:
    """The model (without its platform) that served this request, once noted."""
    slot = SERVED.get()
    return slot[0].partition("/")[2] if slot else None
