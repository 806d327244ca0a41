"""Sorting a failed call into the six classes of platforms.md §2, and reading its retry hints.

    auth_expired     refresh once if the credential can be renewed, else mark it expired;
                     fail over
    quota_exhausted  the account (or account+model) is done until its reset; fail over
    rate_limited     cooldown for (account, model) until the platform's hint, else backoff;
                     fail over
    overloaded       short cooldown; fail over
    network          no answer (connection, timeout, 502/504, 500); retry on another account
    bad_request      the request itself is wrong: straight back to the caller, nothing charged

The body's code decides before the HTTP status (DashScope's overdue bill is a 400, Zhipu's
arrears a 429, Ark's a 403); codes from different vendors do not collide, so one table serves
them all. A platform's `litellm_config.error_codes` ({"code": "class"}) extends or corrects the
table without a release.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from app.services.calls.upstream_error import UpstreamError

ErrorKind = Literal[
    "auth_expired", "quota_exhausted", "rate_limited", "overloaded", "network", "bad_request"
]
ERROR_KINDS: tuple[str, ...] = get_args(ErrorKind)
Scope = Literal["account", "model"]
MAX_RETRY_AFTER_S = 86_400.0


@dataclass(frozen=True)
class Classified:
    kind: ErrorKind
    message: str
    """The platform's own words (redacted, short)."""
    retry_after_s: float | None = None
    """When to try this account (and model) again, from the platform's hints."""
    reset_at: datetime | None = None
    """When an exhausted quota comes back, when the platform says."""
    scope: Scope = "account"
    """What is exhausted: the whole account, or only this model."""
    status: int | None = None
    code: str | None = None


_QUOTA: ErrorKind = "quota_exhausted"
_RATE: ErrorKind = "rate_limited"
_AUTH: ErrorKind = "auth_expired"
_BUSY: ErrorKind = "overloaded"
_NET: ErrorKind = "network"
_BAD: ErrorKind = "bad_request"

# The body's `error.code` (or Google's `error.status`) → class.
CODE_KINDS: dict[str, ErrorKind] = {
    # OpenAI
    "insufficient_quota": _QUOTA,
    "credit_balance_exhausted": _QUOTA,
    "organization_spend_limit_exceeded": _QUOTA,
    "project_spend_limit_exceeded": _QUOTA,
    "billing_hard_limit_reached": _QUOTA,
    "invalid_api_key": _AUTH,
    "rate_limit_exceeded": _RATE,
    # Qwen / DashScope ("Free allocated quota exceeded" shares AllocationQuota: see the text rules)
    "Arrearage": _QUOTA,
    "InvalidApiKey": _AUTH,
    "Throttling": _RATE,
    "Throttling.RateQuota": _RATE,
    "Throttling.AllocationQuota": _RATE,
    "Throttling.BurstRate": _RATE,
    # Zhipu
    **dict.fromkeys(("1000", "1001", "1002", "1003", "1004", "1005"), _AUTH),
    **dict.fromkeys(("1113", "1304", "1308", "1309", "1310"), _QUOTA),
    "1302": _RATE,
    "1303": _RATE,
    "1305": _BUSY,
    **dict.fromkeys(("1210", "1211", "1214", "1261", "1301"), _BAD),
    # iFlytek Spark
    "11200": _QUOTA,
    "11201": _QUOTA,
    "11202": _RATE,
    "11203": _RATE,
    "10007": _RATE,
    "11500": _AUTH,
    **dict.fromkeys(("10003", "10004", "10005", "10013", "10014", "10019", "10907"), _BAD),
    # Baidu (v1 codes; v2 code strings are [unverified])
    "17": _QUOTA,
    "19": _QUOTA,
    "18": _RATE,
    "110": _AUTH,
    "111": _AUTH,
    "invalid_iam_token": _AUTH,
    # Doubao / Volcengine Ark (RateLimitExceeded.* is matched by prefix)
    "AccountOverdueError": _QUOTA,
    "QuotaExceeded": _QUOTA,
    "AuthenticationError": _AUTH,
    "ServerOverloaded": _BUSY,
    # Google (error.status)
    "UNAUTHENTICATED": _AUTH,
    "PERMISSION_DENIED": _AUTH,
    "UNAVAILABLE": _BUSY,
    "FAILED_PRECONDITION": _BAD,
    "INVALID_ARGUMENT": _BAD,
    "NOT_FOUND": _BAD,
}
CODE_PREFIXES: tuple[tuple[str, ErrorKind], ...] = (
    ("RateLimitExceeded.", _RATE),
    ("Throttling.", _RATE),
)
# Quotas that belong to one model of the account, not to the whole account.
MODEL_SCOPED_CODES = {"QuotaExceeded"}

# The body's `error.type` → class (Anthropic's types; generic ones such as
# invalid_request_error say nothing and are left to the status).
TYPE_KINDS: dict[str, ErrorKind] = {
    "overloaded_error": _BUSY,
    "billing_error": _QUOTA,
    "rate_limit_error": _RATE,
    "authentication_error": _AUTH,
    "api_error": _NET,
    "timeout_error": _NET,
    "insufficient_quota": _QUOTA,
}

# Words that settle the class when no code does (mid-stream errors keep only the text).
_TEXT_RULES: tuple[tuple[re.Pattern[str], ErrorKind, Scope], ...] = (
    (re.compile(r"free allocated quota exceeded", re.I), _QUOTA, "model"),
    (
        re.compile(
            r"exceeded your current quota|insufficient[_ ]quota|credit balance is too low"
            r"|insufficient balance|欠费|余额不足",
            re.I,
        ),
        _QUOTA,
        "account",
    ),
    (re.compile(r"rate[\s_-]*limit|too many requests|频率过高|并发数过高", re.I), _RATE, "account"),
    (re.compile(r"overloaded|访问量过大", re.I), _BUSY, "account"),
    (
        re.compile(
            r"connection error|timed out|timeout|stream ended before|connection reset", re.I
        ),
        _NET,
        "account",
    ),
)


def classify(error: UpstreamError, overrides: dict[str, str] | None = None) -> Classified:
    kind, scope = _kind(error, overrides or {})
    classified = Classified(
        kind=kind, message=error.message, scope=scope, status=error.status, code=error.code
    )
    if kind in (_RATE, _BUSY):
        classified = replace(classified, retry_after_s=retry_after_s(error))
    elif kind == _QUOTA:
        classified = replace(classified, reset_at=reset_hint(error.message))
    return classified


def _kind(error: UpstreamError, overrides: dict[str, str]) -> tuple[ErrorKind, Scope]:
    code = error.code or ""
    if code in overrides and overrides[code] in ERROR_KINDS:
        return overrides[code], "account"  # type: ignore[return-value]
    google = _google_kind(error)
    if google is not None:
        return google
    if code in CODE_KINDS:
        kind = CODE_KINDS[code]
        if kind == _RATE and _text_kind(error.message) == (_QUOTA, "model"):
            return _QUOTA, "model"  # DashScope's free grant, under a throttling code
        return kind, "model" if code in MODEL_SCOPED_CODES else "account"
    for prefix, kind in CODE_PREFIXES:
        if code.startswith(prefix):
            return kind, "account"
    if error.error_type in TYPE_KINDS:
        return TYPE_KINDS[error.error_type], "account"
    if error.status == 401:
        return _AUTH, "account"
    by_text = _text_kind(error.message)
    if by_text is not None:
        return by_text
    if error.transport:
        return _NET, "account"
    return _status_kind(error.status), "account"


def _text_kind(message: str) -> tuple[ErrorKind, Scope] | None:
    for pattern, kind, scope in _TEXT_RULES:
        if pattern.search(message):
            return kind, scope
    return None


def _status_kind(status: int | None) -> ErrorKind:
    if status is None or status in (408, 500, 502, 504) or status >= 505:
        return _NET
    if status == 401:
        return _AUTH
    if status == 402:
        return _QUOTA
    if status == 429:
        return _RATE
    if status in (503, 529):
        return _BUSY
    return _BAD


def _google_kind(error: UpstreamError) -> tuple[ErrorKind, Scope] | None:
    """Gemini: an invalid key is a 400, and only QuotaFailure tells a daily quota (done until
    midnight Pacific) from a per-minute one (a cooldown of RetryInfo.retryDelay)."""
    if not error.details:
        return None
    for detail in error.details:
        if detail.get("reason") in ("API_KEY_INVALID", "API_KEY_EXPIRED", "ACCESS_TOKEN_EXPIRED"):
            return _AUTH, "account"
    if error.code == "RESOURCE_EXHAUSTED" or error.status == 429:
        quota_ids = [
            str(violation.get("quotaId", ""))
            for detail in error.details
            if str(detail.get("@type", "")).endswith("QuotaFailure")
            for violation in detail.get("violations") or []
            if isinstance(violation, dict)
        ]
        if any("PerDay" in quota_id for quota_id in quota_ids):
            return _QUOTA, "model"
        return _RATE, "account"
    return None


# --- retry hints ---------------------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_TRY_AGAIN = re.compile(
    r"(?:try again|retry)\s+(?:in|after)\s+(\d+(?:\.\d+)?)\s*"
    r"(ms|milliseconds?|s|sec|seconds?|m|min|minutes?)\b",
    re.I,
)
_ZHIPU_RESET = re.compile(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\s*重置")
_SHANGHAI = ZoneInfo("Asia/Shanghai")


def retry_after_s(error: UpstreamError, now: datetime | None = None) -> float | None:
    """Seconds until the platform says to try again: Retry-After(-ms), Gemini's retryDelay,
    OpenAI's and Anthropic's rate-limit reset headers, or "try again in 20s" in the message."""
    now = now or datetime.now(UTC)
    headers = error.headers
    candidates: list[float | None] = []
    if "retry-after-ms" in headers:
        candidates.append(_number(headers["retry-after-ms"], 0.001))
    if "retry-after" in headers:
        candidates.append(_retry_after_header(headers["retry-after"], now))
    for detail in error.details:
        if "retryDelay" in detail:
            candidates.append(parse_duration(str(detail["retryDelay"])))
    for kind in ("requests", "tokens"):
        if headers.get(f"x-ratelimit-remaining-{kind}") == "0":
            candidates.append(parse_duration(headers.get(f"x-ratelimit-reset-{kind}", "")))
        if headers.get(f"anthropic-ratelimit-{kind}-remaining") == "0":
            candidates.append(_until(headers.get(f"anthropic-ratelimit-{kind}-reset", ""), now))
    match = _TRY_AGAIN.search(error.message)
    if match:
        unit = match.group(2).lower()
        if unit.startswith(("ms", "milli")):
            scale = 0.001
        elif unit.startswith("m"):
            scale = 60.0
        else:
            scale = 1.0
        candidates.append(float(match.group(1)) * scale)
    for value in candidates:
        if value is not None and value > 0:
            return min(value, MAX_RETRY_AFTER_S)
    return None


def reset_hint(message: str) -> datetime | None:
    """A quota's reset time named in the message (Zhipu: "将在 2026-11-28 18:00:00 重置")."""
    match = _ZHIPU_RESET.search(message)
    if not match:
        return None
    local = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=_SHANGHAI)
    return local.astimezone(UTC)


def parse_duration(text: str) -> float | None:
    """`37s`, `1.5s`, `20ms`, `6m0s`, `1h2m3.5s` → seconds."""
    text = text.strip()
    if not text:
        return None
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return _number(text, 1.0)
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(number) * scale[unit] for number, unit in parts)


def _retry_after_header(value: str, now: datetime) -> float | None:
    seconds = _number(value, 1.0)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return (when - now).total_seconds() if when.tzinfo else None


def _until(value: str, now: datetime) -> float | None:
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (when - now).total_seconds() if when.tzinfo else None


def _number(value: Any, scale: float) -> float | None:
    try:
        return float(value) * scale
    except (TypeError, ValueError):
        return None
