"""When a failed call may be tried again, from wherever the platform put it: Retry-After(-ms),
Google's RetryInfo.retryDelay, OpenAI's x-ratelimit-reset-* and Anthropic's
anthropic-ratelimit-*-reset headers, "try again in 20s" in the words; and when an exhausted quota
comes back, where Zhipu names it ("将在 2026-11-28 18:00:00 重置")."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.services.oauth.adapters.errors.upstream import UpstreamError

MAX_RETRY_AFTER_S = 86_400.0
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
