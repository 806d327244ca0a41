"""Requests and answers of the seed's /api/v1/oauth account routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

AccountStatus = Literal["active", "disabled", "expired"]


class InitiateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    account_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ]
    method: str = Field(default="api_key", description="api_key (more methods per platform)")
    credentials: dict[str, str] = Field(
        default_factory=dict, description='for api_key: {"api_key": "..."}'
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


class InitiateResult(BaseModel):
    state: str | None = None
    auth_url: str | None = None
    account: AccountOut | None = None


class DeletedOut(BaseModel):
    id: int
    deleted: Literal[True] = True
