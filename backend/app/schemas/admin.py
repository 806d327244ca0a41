"""What administrators see and send: whole platform configs (secrets masked) and users."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.budgets import BudgetUse
from app.schemas.platform import PlatformConfigIn

MASKED_SECRET = "********"  # noqa: S105 - what is shown instead of a secret


class PlatformConfigOut(PlatformConfigIn):
    """A platform config as stored; `oauth_config.client_secret` is masked."""

    updated_at: datetime
    account_count: int = 0
    """Accounts bound on the platform, every user's: what disabling it affects."""


class PlatformConfigEdit(PlatformConfigIn):
    """What `PUT /admin/platforms/{id}` takes: a config, or what the GET answered (its
    read-only fields are accepted and ignored, so a GET → edit → PUT round trip works)."""

    updated_at: Any = Field(default=None, exclude=True, description="read-only: ignored")
    account_count: Any = Field(default=None, exclude=True, description="read-only: ignored")


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    user_id: int | None
    username: str | None = None
    """The acting user's name; None for the system or a sign-in under a name no user has."""
    action: str
    target: str | None
    outcome: str
    client: str | None
    request_id: str | None
    detail: dict[str, Any] | None


class UserSummary(BaseModel):
    id: int
    username: str
    is_admin: bool
    is_active: bool
    created_at: datetime
    account_count: int
    limits: dict[str, Any] | None = None
    """The user's budgets, set with `PATCH /api/v1/admin/users/{id}`."""
    budgets: list[BudgetUse] = Field(default_factory=list)
    """Where they stand now."""


def mask_oauth_config(oauth_config: dict[str, Any]) -> dict[str, Any]:
    if oauth_config.get("client_secret"):
        return oauth_config | {"client_secret": MASKED_SECRET}
    return oauth_config
