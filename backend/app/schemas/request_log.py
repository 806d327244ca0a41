"""The request log's rows as the API shows them (never the prompt or the answer)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class RequestLogOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    """When the call came in."""
    user_id: int
    username: str | None = None
    """Only in everyone's log (administrators)."""
    surface: str
    """The endpoint called, e.g. `/v1/chat/completions`."""
    model_asked: str | None
    route: str | None
    """The model route asked for, when the model named one."""
    platform_id: str | None
    model: str | None
    """The platform and model that served the call (or that its last attempt failed on)."""
    account_id: int | None
    status: int
    """The HTTP status answered."""
    error_kind: str | None
    """The class of the platform's failure: rate_limited, quota_exhausted, auth_expired, …"""
    error_code: str | None
    """The refusal's `error_code`, or the platform's own code of its failure."""
    attempts: int
    """Accounts tried; 0 for a call refused before any, or answered from the answer cache."""
    latency_ms: int
    first_byte_ms: int | None
    """Until the first byte of answer (a whole answer when not streamed)."""
    prompt_tokens: int | None
    completion_tokens: int | None
