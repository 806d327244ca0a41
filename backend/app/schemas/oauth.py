"""Requests and answers of the seed's /api/v1/oauth routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints

AccountStatus = Literal["active", "disabled", "expired", "exhausted", "cooling"]
ShownStatus = AccountStatus | Literal["platform_disabled"]
"""What the account list shows: the status, or `platform_disabled` while an administrator has
switched the account's platform off (account_status.shown_status)."""
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


class CooldownOut(BaseModel):
    """A model the account rests from: rate-limited, overloaded, or out of that model's quota."""

    model: str
    reason: str
    until: datetime
    message: str | None = None


class LastError(BaseModel):
    """An account's last failed call in the request log."""

    at: datetime
    status: int
    error_kind: str | None
    error_code: str | None


class AccountCallsOut(BaseModel):
    """An account's calls over the last day, from the request log (one row per call: a call
    that failed over is counted on the account that answered it)."""

    calls: int
    success_rate: float | None
    """Of those calls, the share answered (None: no call)."""
    median_latency_ms: int | None
    """Of the answered ones."""
    last_error: LastError | None


class AccountOut(BaseModel):
    """An account as its owner sees it: never a secret, at most a masked hint.

    `quota_used` is today's tokens (the platform's quota day). `status` is `exhausted` while the
    account is out of quota and `cooling` while it rests from a model; `reset_at` says until when.
    """

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
    shown_status: ShownStatus
    """The status as the page shows it (`platform_disabled` besides the statuses)."""
    exhausted_by: Literal["platform", "daily_limit"] | None = None
    """For an exhausted account, who says so: the platform (its own count of the quota, which
    this service cannot see), or this service's count of today's tokens reaching the limit."""
    status_reason: str | None
    reset_at: datetime | None = None
    """When an exhausted or cooling account may serve again (for a cooling one: its rest's end,
    not the quota's reset)."""
    quota_reset_at: datetime | None = None
    """When today's quota starts again (midnight in the platform's reset time zone)."""
    cooldowns: list[CooldownOut] = Field(default_factory=list)
    expires_at: datetime | None
    last_used_at: datetime | None
    calls: AccountCallsOut | None = None
    """The last day's calls (the account list only)."""
    created_at: datetime
    updated_at: datetime


class AccountTestOut(BaseModel):
    """One minimal call made on the account through the call path."""

    outcome: Literal["ok", "failed"]
    latency_ms: int
    model: str
    """The `platform/model` asked."""
    status: int
    """The HTTP status the call would have answered."""
    error_code: str | None = None
    message: str | None = None
    """Why it failed, in the service's words."""


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
    """What the user is asked to do (a browser login that needs a code or a human); for a code,
    the platform's own words when it has any, else absent and `code_kind` says what is asked."""
    step: str | None = None
    """What a browser login is doing now, as a code: `queued`, `open_page`, `fill_<input>`
    (username, password, phone, email, code), `click`, `wait`, `submit_code`, `wait_login`,
    `capture`."""
    queue_position: int | None = None
    reason: Literal["code", "challenge", "unknown_page", "confirm"] | None = None
    code_kind: Literal["sms", "email", "code"] | None = None
    has_screenshot: bool = False
    """`GET /sessions/{state}/screenshot` shows the page the user must act on."""
    blocked: list[str] = Field(default_factory=list)
    """Addresses the login browser refused to open (outside the platform's domains)."""
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
    _browser_binding: str | None = PrivateAttr(default=None)
    """`oauth`: the value of the cookie that binds the authorization to this browser."""


class QuotaOut(BaseModel):
    used: int
    """Tokens used today."""
    limit: int | None
    reset_at: datetime | None
    source: Literal["ledger"]
    """This service's count of today's usage: no platform tells a console key's quota by API."""


class RefreshResult(BaseModel):
    outcome: Literal["refreshed", "valid", "expired", "unreachable", "gone"]
    message: str
    account: AccountOut


class DeletedOut(BaseModel):
    id: int
    deleted: Literal[True] = True
