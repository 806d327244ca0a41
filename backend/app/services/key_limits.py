"""What a call made with an API key may use: the key's `limits` (schemas/api_keys.py), known to
the call path through the key that authenticated the request."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from app.core.errors import Forbidden
from app.services.quota import budgets
from app.services.quota.budgets import Budget


@dataclass(frozen=True)
class CallingKey:
    id: int
    limits: dict[str, Any] | None


CALLING_KEY: ContextVar[CallingKey | None] = ContextVar("calling_key", default=None)
"""The API key that authenticated this request (None: a JWT)."""
CALLER_LIMITS: ContextVar[dict[str, Any] | None] = ContextVar("caller_limits", default=None)
"""The limits (budgets) administrators set on the user who made this request."""


def allows_model(limits: dict[str, Any] | None, asked: str, platform_id: str, model: str) -> bool:
    """Whether the key's allow-list names the model: a glob over `platform/model`, the bare
    model, or the model as asked (a route name)."""
    patterns = (limits or {}).get("models")
    if patterns is None:
        return True
    names = {asked, model, f"{platform_id}/{model}"}
    return any(fnmatchcase(name, pattern) for pattern in patterns for name in names)


def check_model(asked: str, platform_id: str, model: str) -> None:
    """Refuse (403) a model outside the calling key's allow-list, before any platform is asked."""
    key = CALLING_KEY.get()
    if key is not None and not allows_model(key.limits, asked, platform_id, model):
        raise Forbidden(
            f"This API key may not call {platform_id}/{model}: it is outside the key's models.",
            code="model_not_allowed",
        )


def calling_key_id() -> int | None:
    key = CALLING_KEY.get()
    return key.id if key is not None else None


def call_budgets(user_id: int) -> tuple[Budget, ...]:
    """The budgets a call of this request counts against: its key's, then its user's."""
    key = CALLING_KEY.get()
    found = budgets.of("key", key.id, key.limits) if key is not None else ()
    return found + budgets.of("user", user_id, CALLER_LIMITS.get())
