"""Requests and answers of the seed's /api/v1/oauth routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

AccountStatus = Literal["active", "disabled", "expired"]
SessionStatus = Literal[
    "pending", "needs_user_action", "completing", "completed", "failed", "expired"
]


class InitiateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    account_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ]
    method: str | None = Field(
        default=None,
        description="api_key, oauth, device or browser (the platform's first method if omitted)",
    )
    credentials: dict[str, Annotated[str, StringConstraints(max_length=4096)]] = Field(
        default_factory=dict,
        description='for api_key: {"api_key": "..."} or the platform\'s key pair fields',
    )


class AccountOut(BaseModel):
    """An account as its owner sees it: never a secret, at most a masked hint."""

    id: int
    platform_id: str
    platform_name: str
    account_name: str | None
    auth_method: str
    credential_hint: str | None
    quota_used: int
    quota_limit: int | None
    is_active: bool
    is_expired: bool
    status: AccountStatus
    status_reason: str | None
    expires_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime
    updated_at: datetime


class SessionOut(BaseModel):
    """An authorization session as its owner follows it."""

    state: str
    platform_id: str
    method: str
    status: SessionStatus
    expires_at: datetime
    auth_url: str | None = None
    user_code: str | None = None
    verification_uri: str | None = None
    verification_uri_complete: str | None = None
    interval: int | None = None
    prompt: str | None = None
    error: str | None = None
    account: AccountOut | None = None


class InitiateResult(BaseModel):
    """`api_key`: the account at once. `oauth`: `auth_url` and `state`. `device`: the code to
    enter at `verification_uri`, and `state` to follow the session."""

    state: str | None = None
    auth_url: str | None = None
    user_code: str | None = None
    verification_uri: str | None = None
    verification_uri_complete: str | None = None
    expires_in: int | None = None
    interval: int | None = None
    account: AccountOut | None = None


class RefreshResult(BaseModel):
    outcome: Literal["refreshed", "valid", "expired", "unreachable", "gone"]
    message: str
    account: AccountOut


class DeletedOut(BaseModel):
    id: int
    deleted: Literal[True] = True
