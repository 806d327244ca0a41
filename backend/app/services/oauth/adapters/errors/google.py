"""Google's (Gemini's) errors: `error.status` as the code, and `error.details` for what the
status cannot say — an invalid key is a 400, and only QuotaFailure tells a daily quota (done
until midnight Pacific) from a per-minute one (a cooldown of RetryInfo.retryDelay)."""

from __future__ import annotations

from app.services.oauth.adapters.errors.kinds import (
    AUTH,
    BAD,
    BUSY,
    QUOTA,
    RATE,
    ErrorKind,
    Scope,
    VendorErrors,
)
from app.services.oauth.adapters.errors.upstream import UpstreamError

_INVALID_KEY = ("API_KEY_INVALID", "API_KEY_EXPIRED", "ACCESS_TOKEN_EXPIRED")


def _from_details(error: UpstreamError) -> tuple[ErrorKind, Scope] | None:
    if not error.details:
        return None
    for detail in error.details:
        if detail.get("reason") in _INVALID_KEY:
            return AUTH, "account"
    if error.code == "RESOURCE_EXHAUSTED" or error.status == 429:
        quota_ids = [
            str(violation.get("quotaId", ""))
            for detail in error.details
            if str(detail.get("@type", "")).endswith("QuotaFailure")
            for violation in detail.get("violations") or []
            if isinstance(violation, dict)
        ]
        if any("PerDay" in quota_id for quota_id in quota_ids):
            return QUOTA, "model"
        return RATE, "account"
    return None


ERRORS = VendorErrors(
    codes={
        "UNAUTHENTICATED": AUTH,
        "PERMISSION_DENIED": AUTH,
        "UNAVAILABLE": BUSY,
        "FAILED_PRECONDITION": BAD,
        "INVALID_ARGUMENT": BAD,
        "NOT_FOUND": BAD,
    },
    reader=_from_details,
)
